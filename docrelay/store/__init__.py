"""Stores by the form of the root: a local folder now; other backends by URL scheme."""

from pathlib import Path

from docrelay.errors import BadRequest
from docrelay.store.base import Entry, Store, Writer


def open_store(root: str) -> Store:
    """The store for a root setting: a folder path (created if missing)."""
    if "://" in root and not root.startswith("file://"):
        scheme = root.split("://", 1)[0]
        raise BadRequest(f"Stores of the kind {scheme!r} are not supported yet; give a folder.")
    from docrelay.store.local import LocalStore

    folder = Path(root.removeprefix("file://")).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return LocalStore(folder)


__all__ = ["Entry", "Store", "Writer", "open_store"]
