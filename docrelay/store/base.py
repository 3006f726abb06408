"""The store contract: what docrelay asks of a storage backend.

A store knows paths and bytes, never ids. Paths are tuples of names relative to the
store's root (``()`` is the root). The catalog guarantees every name in a path it
passes came from ``list_folder`` or passed ``docrelay.names.check_name``.

To write a new backend, subclass ``Store`` and implement every abstract method:

- raise the built-in ``OSError`` types — ``FileNotFoundError`` for a missing item,
  ``FileExistsError`` for a taken name, ``NotADirectoryError`` when a folder was
  expected — and ``docrelay.errors.StoreUnavailable`` when the backend cannot be
  reached; never wrap them in other types;
- never return or follow anything outside the root;
- make writes atomic: ``begin_write`` returns a ``Writer`` whose bytes become visible
  under their real name only at ``commit``; ``abort`` (or a crash) leaves the real
  name as it was;
- hide your own bookkeeping (temporaries, trash) from ``list_folder``; names starting with
  ``docrelay.names.INTERNAL_PREFIX`` are reserved for it.
"""

import abc
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

Path = tuple[str, ...]
Kind = Literal["file", "folder"]


@dataclass(frozen=True)
class Entry:
    """What a store knows of one item."""

    name: str
    kind: Kind
    size: int
    mtime_ns: int
    etag: str
    identity: str | None = None  # survives a rename in the store (inode and device), if any


class Writer(abc.ABC):
    """The bytes of one upload, on their way to a folder."""

    #: the temporary's name in its folder, recorded so that a crash can be swept up
    temporary: str

    @abc.abstractmethod
    def write(self, chunk: bytes) -> None: ...

    @abc.abstractmethod
    def commit(self, name: str, *, replace: bool) -> Entry:
        """Make the bytes visible as ``name``; ``FileExistsError`` if it is taken and
        ``replace`` is false, after which the writer still holds the bytes: commit again
        under another name, or abort."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop the bytes; the folder is as it was. Safe to call after ``commit``."""


class Store(abc.ABC):
    """A storage backend rooted at one folder."""

    #: characters this store cannot hold in a name (SPEC.md §6)
    refused_chars: str = ""
    #: a description for logs, never including secrets
    description: str = ""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``StoreUnavailable`` unless the root can be reached."""

    @abc.abstractmethod
    def list_folder(self, folder: Path) -> list[Entry]:
        """The visible children of ``folder``."""

    def listing_stamp(self, folder: Path) -> Hashable | None:
        """A value that is equal to an earlier one only if ``list_folder(folder)`` would
        answer as it did when that one was taken (ask before listing); None when the
        store cannot tell without listing, as here."""
        return None

    def on_this_machine(self, path: Path) -> bool:
        """Whether the file at ``path`` is on this machine's file system, under the root,
        for a web server beside docrelay to send (``accel_redirect``)."""
        return False

    def close(self) -> None:  # noqa: B027 - most stores hold nothing open
        """Release what the store holds open (file-event watches)."""

    @abc.abstractmethod
    def stat(self, path: Path) -> Entry: ...

    @abc.abstractmethod
    def open_read(self, path: Path) -> BinaryIO:
        """A seekable binary file object for a file's bytes."""

    @abc.abstractmethod
    def begin_write(self, folder: Path) -> Writer: ...

    @abc.abstractmethod
    def make_folder(self, folder: Path, name: str) -> Entry: ...

    @abc.abstractmethod
    def move(self, source: Path, folder: Path, name: str) -> Entry:
        """Rename or move ``source`` to ``folder/name``; ``FileExistsError`` if taken by
        another item (a change of case of the item's own name is allowed)."""

    @abc.abstractmethod
    def trash(self, path: Path, token: str) -> None:
        """Move an item out of the browsable tree, recoverable under ``token``."""

    @abc.abstractmethod
    def restore(self, token: str, folder: Path, name: str) -> Entry: ...

    @abc.abstractmethod
    def purge(self, token: str) -> None:
        """Remove a trashed item for good; a missing one is not an error."""

    @abc.abstractmethod
    def discard_temporary(self, folder: Path, temporary: str) -> None:
        """Remove an upload temporary left by a crash; a missing one is not an error."""

    def walk(self, folder: Path = ()) -> Iterator[tuple[Path, list[Entry]]]:
        """Every folder under ``folder`` (itself first) with its children."""
        entries = self.list_folder(folder)
        yield folder, entries
        for entry in entries:
            if entry.kind == "folder":
                yield from self.walk((*folder, entry.name))
