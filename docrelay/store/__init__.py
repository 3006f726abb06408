"""Stores by the form of the root: a folder path, or a URL naming an fsspec back-end."""

import re
from pathlib import Path
from typing import Any

from docrelay.store.backends import StoreSetupError
from docrelay.store.base import Entry, Store, Writer

_MANGLED_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/(?!/)")


def open_store(root: str, options: dict[str, Any] | None = None) -> Store:
    """The store for a root setting.

    A folder path (or ``file://`` URL) is a local folder, created if missing; a URL such
    as ``s3://bucket/prefix``, ``sftp://user@host/path`` or ``webdav+https://host/path``
    is an fsspec store (``docrelay.store.backends``), with ``options`` (the
    ``root_options`` setting) for its back-end. Nothing remote is contacted here:
    ``Store.check`` does that.
    """
    if "://" in root and not root.startswith("file://"):
        from docrelay.store.backends import open_fsspec_store

        return open_fsspec_store(root, options)
    from docrelay.store.local import LocalStore

    if _MANGLED_URL.match(root):  # "s3:/bucket": a URL that lost a slash on its way
        raise StoreSetupError(
            f"The root {root!r} looks like a store URL with one slash; write "
            f"{root.replace(':/', '://', 1)!r}, or ./{root} for a folder of that name."
        )
    folder = Path(root.removeprefix("file://")).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return LocalStore(folder)


__all__ = ["Entry", "Store", "Writer", "open_store"]
