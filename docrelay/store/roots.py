"""Several named stores behind one tree: the root folder lists them as folders.

A path's first name picks the store (a configured root's name); the rest is the path
inside that store. Nothing can be written into the top itself, and a root folder can be
neither renamed, moved nor deleted.
"""

import errno
from collections.abc import Hashable, Mapping
from typing import BinaryIO

from docrelay.errors import BadRequest, DocrelayError
from docrelay.store.base import Entry, Path, Store, Writer


class RootsStore(Store):
    def __init__(self, stores: Mapping[str, Store]) -> None:
        if not stores:
            raise ValueError("RootsStore needs at least one store")
        self.stores = dict(stores)
        self.description = "; ".join(
            f"{store.description} as {name!r}" for name, store in self.stores.items()
        )

    def _split(self, path: Path) -> tuple[Store, Path]:
        if not path:
            raise BadRequest("Choose one of the root folders; the top holds no items of its own.")
        store = self.stores.get(path[0])
        if store is None:
            raise FileNotFoundError(errno.ENOENT, "no such root", path[0])
        return store, path[1:]

    def _fixed(self, path: Path) -> None:
        if len(path) <= 1:
            raise BadRequest("A root folder can be neither renamed, moved nor deleted.")

    def check(self) -> None:
        for store in self.stores.values():
            store.check()

    def list_folder(self, folder: Path) -> list[Entry]:
        if folder:
            store, inner = self._split(folder)
            return store.list_folder(inner)
        return [self._root_entry(name, store) for name, store in self.stores.items()]

    def listing_stamp(self, folder: Path) -> Hashable | None:
        if not folder:
            return None  # the top: each root's own modification time is listed
        store, inner = self._split(folder)
        return store.listing_stamp(inner)

    def on_this_machine(self, path: Path) -> bool:
        if not path:
            return False
        store, inner = self._split(path)
        return store.on_this_machine(inner)

    def close(self) -> None:
        for store in self.stores.values():
            store.close()

    def _root_entry(self, name: str, store: Store) -> Entry:
        try:
            mtime_ns = store.stat(()).mtime_ns
        except (OSError, DocrelayError):
            mtime_ns = 0  # an unreachable store still shows; opening it answers 503
        return Entry(name=name, kind="folder", size=0, mtime_ns=mtime_ns, etag="", identity=None)

    def stat(self, path: Path) -> Entry:
        if not path:
            return Entry(name="", kind="folder", size=0, mtime_ns=0, etag="")
        store, inner = self._split(path)
        entry = store.stat(inner)
        if not inner:
            return Entry(name=path[0], kind="folder", size=0, mtime_ns=entry.mtime_ns, etag="")
        return entry

    def open_read(self, path: Path) -> BinaryIO:
        store, inner = self._split(path)
        return store.open_read(inner)

    def begin_write(self, folder: Path) -> Writer:
        store, inner = self._split(folder)
        return store.begin_write(inner)

    def make_folder(self, folder: Path, name: str) -> Entry:
        store, inner = self._split(folder)
        return store.make_folder(inner, name)

    def move(self, source: Path, folder: Path, name: str) -> Entry:
        self._fixed(source)
        store, inner = self._split(source)
        target, target_inner = self._split(folder)
        if target is not store:
            raise BadRequest("Items cannot be moved between root folders.")
        return store.move(inner, target_inner, name)

    def trash(self, path: Path, token: str) -> None:
        self._fixed(path)
        store, inner = self._split(path)
        store.trash(inner, token)

    def restore(self, token: str, folder: Path, name: str) -> Entry:
        store, inner = self._split(folder)
        return store.restore(token, inner, name)

    def purge(self, token: str) -> None:
        for store in self.stores.values():  # a token lives in one store; purging is idempotent
            store.purge(token)

    def discard_temporary(self, folder: Path, temporary: str) -> None:
        store, inner = self._split(folder)
        store.discard_temporary(inner, temporary)
