"""Stores by the form of the root: a folder path, or a URL naming an fsspec back-end."""

from pathlib import Path
from typing import Any

from docrelay.store.base import Entry, Store, Writer


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

    folder = Path(root.removeprefix("file://")).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return LocalStore(folder)


__all__ = ["Entry", "Store", "Writer", "open_store"]
