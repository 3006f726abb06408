"""A folder on this machine's file system: a local disk or a mounted NFS/SMB share."""

import contextlib
import errno
import logging
import os
import secrets
import shutil
import stat as stat_module
import threading
from collections.abc import Hashable
from pathlib import Path as FsPath
from typing import BinaryIO

from docrelay.errors import StoreUnavailable
from docrelay.names import INTERNAL_PREFIX, name_key
from docrelay.store.base import Entry, Kind, Path, Store, Writer
from docrelay.store.changes import FolderChanges

log = logging.getLogger("docrelay.store.local")

_TRASH = (INTERNAL_PREFIX, "trash")
_CHUNK_FSYNC = True


def _entry(name: str, info: os.stat_result) -> Entry:
    kind: Kind = "folder" if stat_module.S_ISDIR(info.st_mode) else "file"
    size = 0 if kind == "folder" else info.st_size
    return Entry(
        name=name,
        kind=kind,
        size=size,
        mtime_ns=info.st_mtime_ns,
        etag=f"{info.st_ino:x}-{size:x}-{info.st_mtime_ns:x}",
        identity=f"{info.st_dev}:{info.st_ino}",
    )


class LocalWriter(Writer):
    def __init__(self, store: "LocalStore", folder: Path) -> None:
        self._store = store
        self._folder = folder
        self.temporary = f"{INTERNAL_PREFIX}-{secrets.token_hex(4)}"
        self._path = store.real(folder) / self.temporary
        self._file: BinaryIO | None = open(self._path, "xb")  # noqa: SIM115 - closed in commit/abort
        self._ended = False

    def write(self, chunk: bytes) -> None:
        assert self._file is not None and not self._ended, "write after commit or abort"
        self._file.write(chunk)

    def commit(self, name: str, *, replace: bool) -> Entry:
        """After ``FileExistsError`` the bytes stay in the temporary: commit again under
        another name, or abort."""
        assert not self._ended, "commit after commit or abort"
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
        target = self._store.real(self._folder) / name
        if replace:
            os.replace(self._path, target)
        else:
            self._link_without_clobbering(target)
        self._ended = True
        return _entry(name, os.stat(target))

    def _link_without_clobbering(self, target: FsPath) -> None:
        try:
            os.link(self._path, target)
        except FileExistsError:
            raise
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # Some shares (SMB, a few FUSE file systems) have no hard links: check, then rename.
            if os.path.lexists(target):
                raise FileExistsError(errno.EEXIST, "taken", str(target)) from None
            os.replace(self._path, target)
            return
        os.unlink(self._path)

    def abort(self) -> None:
        self._ended = True
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


class LocalStore(Store):
    """Serves ``root``; every path is resolved and checked inside it before use."""

    def __init__(self, root: FsPath) -> None:
        self.root = root.resolve()
        self.description = f"local folder {self.root}"
        self._changes: FolderChanges | None = None  # made on first use
        self._changes_lock = threading.Lock()

    @property
    def changes(self) -> FolderChanges:
        with self._changes_lock:
            if self._changes is None:
                self._changes = FolderChanges()
            return self._changes

    def listing_stamp(self, folder: Path) -> Hashable | None:
        try:
            directory = self.real(folder)
        except OSError:
            return None
        return self.changes.stamp(str(directory))

    def on_this_machine(self, path: Path) -> bool:
        try:
            self.real(path)  # inside the root, links followed
        except OSError:
            return False
        return True

    def close(self) -> None:
        with self._changes_lock:
            if self._changes is not None:
                self._changes.close()
                self._changes = None

    def check(self) -> None:
        if not self.root.is_dir():
            raise StoreUnavailable(f"The folder {self.root} cannot be reached.")

    def real(self, path: Path) -> FsPath:
        """The file-system path of ``path``, refused unless it resolves inside the root and,
        links followed, outside docrelay's own temporaries and trash.

        The path is checked, then opened: someone who can write into the share could swap
        a folder for a link in between. Closing that window needs opening each name with
        O_NOFOLLOW relative to its folder's descriptor, which is not done yet."""
        candidate = self.root.joinpath(*path)
        resolved = FsPath(os.path.realpath(candidate))
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise FileNotFoundError(errno.ENOENT, "outside the root", str(candidate))
        reached = (*path, *resolved.relative_to(self.root).parts)
        if any(part.startswith(INTERNAL_PREFIX) for part in reached):
            raise FileNotFoundError(errno.ENOENT, "reserved name", str(candidate))
        return candidate

    def list_folder(self, folder: Path) -> list[Entry]:
        directory = self.real(folder)
        entries = []
        try:
            scan = os.scandir(directory)
        except FileNotFoundError:
            self.check()
            raise
        rechecked: list[str] = []  # what file events of this folder may not tell of
        with scan:
            for item in scan:
                if item.name.startswith(INTERNAL_PREFIX):
                    continue
                entry = self._visible(folder, item, rechecked)
                if entry is not None:
                    entries.append(entry)
        if self._changes is not None:
            self._changes.listed(str(directory), rechecked)
        return entries

    def _visible(self, folder: Path, item: os.DirEntry[str], rechecked: list[str]) -> Entry | None:
        try:
            link = item.is_symlink()
            if link:
                rechecked.append(item.name)
                self.real((*folder, item.name))  # refuses a link that leaves the root
            info = item.stat()
        except OSError:
            return None  # a broken link, a link out of the root, or gone meanwhile
        if stat_module.S_ISDIR(info.st_mode):
            if not link:
                rechecked.append(item.name)
        elif not stat_module.S_ISREG(info.st_mode):
            return None  # sockets, devices, FIFOs
        elif info.st_nlink > 1 and not link:
            rechecked.append(item.name)  # a hard link: written through its other name
        if link and stat_module.S_ISDIR(info.st_mode) and self._loops(folder, item.path):
            return None
        return _entry(item.name, info)

    def _loops(self, folder: Path, link: str) -> bool:
        """Whether a folder link leads back to a folder on its own path, which would make
        the tree endless (``a/up -> a``, or ``a/b -> b`` beside ``b/a -> a``)."""
        target = os.path.realpath(link)
        return any(
            os.path.realpath(self.root.joinpath(*folder[:depth])) == target
            for depth in range(len(folder) + 1)
        )

    def stat(self, path: Path) -> Entry:
        real = self.real(path)
        try:
            info = os.stat(real)
        except FileNotFoundError:
            self.check()
            raise
        if not (stat_module.S_ISDIR(info.st_mode) or stat_module.S_ISREG(info.st_mode)):
            raise FileNotFoundError(errno.ENOENT, "not a file or folder", str(real))
        return _entry(path[-1] if path else "", info)

    def open_read(self, path: Path) -> BinaryIO:
        real = self.real(path)
        if os.path.isdir(real):
            raise IsADirectoryError(errno.EISDIR, "a folder", str(real))
        return open(real, "rb")

    def begin_write(self, folder: Path) -> Writer:
        return LocalWriter(self, folder)

    def make_folder(self, folder: Path, name: str) -> Entry:
        target = self.real(folder) / name
        os.mkdir(target)
        return _entry(name, os.stat(target))

    def move(self, source: Path, folder: Path, name: str) -> Entry:
        old = self.real(source)
        new = self.real(folder) / name
        same_item = source[:-1] == folder and name_key(source[-1]) == name_key(name)
        if os.path.lexists(new) and not same_item:
            raise FileExistsError(errno.EEXIST, "taken", str(new))
        os.rename(old, new)
        return _entry(name, os.stat(new))

    def _trash_dir(self) -> FsPath:
        trash = self.root.joinpath(*_TRASH)
        trash.mkdir(parents=True, exist_ok=True)
        return trash

    def trash(self, path: Path, token: str) -> None:
        real = self.real(path)
        holder = self._trash_dir() / token
        holder.mkdir()
        os.rename(real, holder / "item")

    def restore(self, token: str, folder: Path, name: str) -> Entry:
        source = self._trash_dir() / token / "item"
        target = self.real(folder) / name
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "taken", str(target))
        os.rename(source, target)
        os.rmdir(source.parent)
        return _entry(name, os.stat(target))

    def purge(self, token: str) -> None:
        holder = self._trash_dir() / token
        shutil.rmtree(holder, ignore_errors=True)

    def discard_temporary(self, folder: Path, temporary: str) -> None:
        if not temporary.startswith(INTERNAL_PREFIX):
            raise ValueError(f"not a temporary: {temporary!r}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.real(folder) / temporary)
