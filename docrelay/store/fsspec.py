"""Any fsspec file system as a store: S3 and other object stores, SFTP, WebDAV, memory.

How the guarantees of ``docrelay.store.base`` are kept here:

- **Paths** are the root joined with names by ``/``; a name that is empty, ``.``, ``..``,
  holds a ``/`` or starts with ``INTERNAL_PREFIX`` is refused, so every path stays under
  the root. Symbolic links (SFTP) and other special entries are not listed.
- **Reads** open ``fs.open(path, "rb")``: a seekable file object that fetches ranges of
  ``READ_BLOCK`` bytes (S3 ranged GETs, SFTP pipelined reads, HTTP ranges).
- **Writes** stream into a temporary ``.~docrelay-xxxxxxxx`` in the target folder (S3:
  a multipart upload in parts of ``WRITE_BLOCK``) and are renamed into place at
  ``commit``. S3 has no rename: the commit is a server-side copy then a delete of the
  temporary, so the real name appears whole, but not at once for very large files.
- **No clobbering.** By default the target is checked before the move; on stores with no
  atomic no-replace rename (S3 and the other object stores, memory) another writer can
  take the name in the moment between the check and the move. Subclasses with such a
  rename (``docrelay.store.sftp``, ``docrelay.store.webdav``) override ``_rename``.
- **Folders** on object stores, which only have key prefixes, hold a hidden marker object
  ``.~docrelay-folder`` so that empty folders survive (``folder_markers``). Moving such a
  folder copies every key under it and then deletes the old ones: not atomic.
- **Trash** is ``{root}/.~docrelay/trash/{token}/item``; hidden names are never listed.
- **Change detection**: the ETag is the store's (S3 ETag, WebDAV etag) or else size and
  modification time, which some stores give in whole seconds (see ``SftpStore``).
  There is no identity (``Entry.identity`` is None): a rename made behind docrelay's
  back is a new item.
- **Failures** are translated once, by ``docrelay.store.failures.translated``.
"""

import contextlib
import errno
import io
import posixpath
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, BinaryIO, cast

from fsspec import AbstractFileSystem

from docrelay.errors import StoreUnavailable
from docrelay.names import INTERNAL_PREFIX, name_key
from docrelay.store.base import Entry, Kind, Path, Store, Writer
from docrelay.store.failures import translated
from docrelay.store.streams import FsspecWriter, Reader

READ_BLOCK = 4 * 1024 * 1024
WRITE_BLOCK = 5 * 1024 * 1024  # S3's smallest multipart part
MARKER = f"{INTERNAL_PREFIX}-folder"
TRASH = (INTERNAL_PREFIX, "trash")

Info = dict[str, Any]


def _mtime_ns(info: Info) -> int:
    """The modification time a back-end gives, under whichever name, as nanoseconds."""
    for key in ("mtime", "LastModified", "modified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, datetime):
            return int(value.timestamp() * 1_000_000) * 1000
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value * 1_000_000) * 1000
    return 0


def _block(size: int | None) -> dict[str, int]:
    return {} if size is None else {"block_size": size}


def _kind(info: Info) -> Kind | None:
    kind = info.get("type")
    if kind == "directory":
        return "folder"
    if kind == "file":
        return "file"
    return None  # links, devices and whatever else a back-end reports


def entry_of(name: str, info: Info) -> Entry | None:
    """The entry for a back-end's ``info``; None for what is neither file nor folder."""
    kind = _kind(info)
    if kind is None:
        return None
    mtime_ns = _mtime_ns(info)
    if kind == "folder":
        return Entry(name=name, kind=kind, size=0, mtime_ns=mtime_ns, etag=f"d-{mtime_ns:x}")
    size = int(info.get("size") or 0)
    stored = info.get("ETag") or info.get("etag") or info.get("md5Hash")
    etag = str(stored).strip('"') if stored else f"{size:x}-{mtime_ns:x}"
    return Entry(name=name, kind=kind, size=size, mtime_ns=mtime_ns, etag=etag)


class FsspecStore(Store):
    """A store over ``fs`` rooted at ``root`` (a path in ``fs``; ``""`` is its base).

    ``connect`` makes the file system; it is called again after the store became
    unreachable, so that a dropped SFTP connection is opened anew on the next call.
    """

    #: folders exist only as key prefixes (S3, GCS, Azure): each one keeps a marker object
    folder_markers: bool = False
    #: ``after_replace`` may have to mend the ETag of a replaced file (coarse mtimes)
    mends_etags: bool = False
    #: ``fs.mv`` is the back-end's own rename, without glob expansion (SMB)
    native_mv: bool = False
    #: bytes per ranged read and per upload part; None leaves the back-end's own
    read_block: int | None = READ_BLOCK
    write_block: int | None = WRITE_BLOCK

    def __init__(
        self,
        connect: Callable[[], AbstractFileSystem],
        root: str,
        *,
        description: str = "",
        folder_markers: bool | None = None,
        refused_chars: str = "",
    ) -> None:
        self._connect = connect
        self._fs: AbstractFileSystem | None = None
        self._connecting = threading.Lock()
        self.root = root if root in ("", "/") else root.rstrip("/")
        self.description = description or f"fsspec store {root!r}"
        if folder_markers is not None:
            self.folder_markers = folder_markers
        self.refused_chars = refused_chars or self.refused_chars

    @property
    def fs(self) -> AbstractFileSystem:
        fs = self._fs
        if fs is None:
            with self._connecting:  # one connection, whichever thread asks first
                if self._fs is None:
                    self._fs = self._connect()
                fs = self._fs
        return fs

    def lost_connection(self) -> None:
        """Called when the store became unreachable: connect anew on the next call."""
        self.close()

    def close(self) -> None:
        """Let go of the back-end's connections; the next call connects anew."""
        fs, self._fs = self._fs, None
        if fs is not None:
            with contextlib.suppress(Exception):
                self._disconnect(fs)

    def _disconnect(self, fs: AbstractFileSystem) -> None:
        """Close what ``fs`` holds open, for back-ends that do not on their own."""

    # -- paths ---------------------------------------------------------------------------

    def under(self, *names: str) -> str:
        """The back-end path of ``names`` under the root, unchecked."""
        if not names:
            return self.root
        if self.root in ("", "/"):
            return self.root + "/".join(names)
        return "/".join((self.root, *names))

    def real(self, path: Path) -> str:
        """The back-end path of ``path``, refused unless every name stays in the folder."""
        for name in path:
            if name in ("", ".", "..") or "/" in name or name.startswith(INTERNAL_PREFIX):
                raise FileNotFoundError(errno.ENOENT, "not a name in the store", name)
        return self.under(*path)

    def _info(self, target: str) -> Info:
        return cast(Info, self.fs.info(target))

    def _exists(self, target: str) -> bool:
        """Whether anything is at ``target``; unlike ``fs.exists``, errors propagate."""
        try:
            self._info(target)
        except FileNotFoundError:
            return False
        return True

    def _folder_info(self, target: str) -> Info:
        info = self._info(target)
        if info.get("type") != "directory":
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", target)
        return info

    # -- the contract ----------------------------------------------------------------------

    @translated
    def check(self) -> None:
        """Reach the root, creating it if it is missing (as a local root is)."""
        try:
            self._folder_info(self.root)
        except FileNotFoundError:
            self._make_root()
        except (NotADirectoryError, PermissionError) as error:
            raise StoreUnavailable(
                f"The root of {self.description} is unusable: {error}"
            ) from error

    def _make_root(self) -> None:
        if not self.folder_markers:
            self.fs.makedirs(self.root, exist_ok=True)
            return
        bucket = self.root.split("/", 1)[0]
        if bucket == self.root or not self._exists(bucket):
            raise StoreUnavailable(f"The bucket of {self.description} does not exist.")
        self.fs.pipe_file(self.under(MARKER), b"")

    @translated
    def list_folder(self, folder: Path) -> list[Entry]:
        directory = self.real(folder)
        self.fs.invalidate_cache(directory)
        try:
            infos = cast(list[Info], self.fs.ls(directory, detail=True))
        except FileNotFoundError:
            if not folder and self.folder_markers:
                return []  # a prefix with nothing under it yet
            self._folder_info(directory)  # NotADirectoryError for a file
            raise
        entries: dict[str, Entry] = {}
        for info in infos:
            full = str(info.get("name", "")).rstrip("/")
            if full == directory.rstrip("/"):
                if info.get("type") != "directory":
                    raise NotADirectoryError(errno.ENOTDIR, "not a folder", directory)
                continue
            name = posixpath.basename(full)
            if name in ("", ".", "..") or name.startswith(INTERNAL_PREFIX):
                continue
            if self.refused_chars and not set(name).isdisjoint(self.refused_chars):
                continue  # made outside docrelay; this back-end cannot address it
            entry = entry_of(name, info)
            if entry is None:
                continue
            # an object store can hold a key "x" beside a prefix "x/": the folder wins
            if entry.kind == "folder" or entries.get(name, entry).kind == "file":
                entries[name] = entry
        return list(entries.values())

    @translated
    def stat(self, path: Path) -> Entry:
        target = self.real(path)
        try:
            info = self._info(target)
        except FileNotFoundError:
            if not path and self.folder_markers:
                return Entry(name="", kind="folder", size=0, mtime_ns=0, etag="d-0")
            raise
        entry = entry_of(path[-1] if path else "", info)
        if entry is None:
            raise FileNotFoundError(errno.ENOENT, "not a file or folder", target)
        return entry

    @translated
    def open_read(self, path: Path) -> BinaryIO:
        target = self.real(path)
        if self._info(target).get("type") == "directory":
            raise IsADirectoryError(errno.EISDIR, "a folder", target)
        handle = self.fs.open(target, "rb", **_block(self.read_block))
        return cast(BinaryIO, io.BufferedReader(Reader(handle, self), buffer_size=256 * 1024))

    @translated
    def begin_write(self, folder: Path) -> Writer:
        directory = self.real(folder)
        self._folder_info(directory)  # an object store would make a missing folder anew
        temporary = f"{INTERNAL_PREFIX}-{secrets.token_hex(4)}"
        handle = self.fs.open(self.under(*folder, temporary), "wb", **_block(self.write_block))
        return FsspecWriter(self, folder, temporary, handle)

    @translated
    def make_folder(self, folder: Path, name: str) -> Entry:
        self._folder_info(self.real(folder))
        target = self.real((*folder, name))
        if self._exists(target):
            raise FileExistsError(errno.EEXIST, "taken", target)
        if self.folder_markers:
            self.fs.pipe_file(f"{target}/{MARKER}", b"")
        else:
            self.fs.mkdir(target, create_parents=False)
        return self.stat((*folder, name))

    @translated
    def move(self, source: Path, folder: Path, name: str) -> Entry:
        old = self.real(source)
        new = self.real((*folder, name))
        if old == new:
            return self.stat(source)
        is_folder = self._info(old).get("type") == "directory"
        self._folder_info(self.real(folder))
        same_item = source[:-1] == folder and name_key(source[-1]) == name_key(name)
        if same_item and self._exists(new):
            # a case-only rename on a store that folds case: go through a third name
            step = self.under(*folder, f"{INTERNAL_PREFIX}-{secrets.token_hex(4)}")
            self._rename(old, step, replace=False, folder=is_folder)
            old = step
        self._rename(old, new, replace=False, folder=is_folder)
        return self.stat((*folder, name))

    @translated
    def trash(self, path: Path, token: str) -> None:
        source = self.real(path)
        is_folder = self._info(source).get("type") == "directory"
        holder = self.under(*TRASH, token)
        if not self.folder_markers:
            self.fs.makedirs(holder, exist_ok=True)
        self._rename(source, f"{holder}/item", replace=False, folder=is_folder)

    @translated
    def restore(self, token: str, folder: Path, name: str) -> Entry:
        holder = self.under(*TRASH, token)
        source = f"{holder}/item"
        is_folder = self._info(source).get("type") == "directory"
        self._folder_info(self.real(folder))
        self._rename(source, self.real((*folder, name)), replace=False, folder=is_folder)
        self._remove_tree(holder)
        return self.stat((*folder, name))

    @translated
    def purge(self, token: str) -> None:
        self._remove_tree(self.under(*TRASH, token))

    @translated
    def discard_temporary(self, folder: Path, temporary: str) -> None:
        if not temporary.startswith(INTERNAL_PREFIX) or "/" in temporary:
            raise ValueError(f"not a temporary: {temporary!r}")
        self.real(folder)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.under(*folder, temporary))

    # -- moving and removing -----------------------------------------------------------

    # fsspec's mv, copy and rm expand glob patterns: a name holding "[", "*" or "?" would
    # match other items. So the defaults below move and remove one entry at a time.

    def _rename(self, source: str, target: str, *, replace: bool, folder: bool) -> None:
        """Move ``source`` to ``target``; ``FileExistsError`` if it is taken and not
        ``replace``. This default checks, then moves: see the module's docstring."""
        if not replace and self._exists(target):
            raise FileExistsError(errno.EEXIST, "taken", target)
        if self.native_mv:
            self.fs.mv(source, target)
        elif folder:
            self._move_tree(source, target)
        else:
            self.fs.cp_file(source, target)
            self.fs.rm_file(source)

    def _tree(self, top: str) -> list[tuple[str, str]]:
        """(path, type) of everything under ``top``, parents before their children."""
        found = cast(dict[str, Info], self.fs.find(top, withdirs=True, detail=True))
        base = self.fs._strip_protocol(top).rstrip("/")
        return sorted((path, str(info.get("type"))) for path, info in found.items() if path != base)

    def _move_tree(self, source: str, target: str) -> None:
        """Copy every entry under ``source`` (markers included) to ``target``, then
        remove ``source``; on object stores, one key at a time."""
        base = self.fs._strip_protocol(source).rstrip("/")
        if not self.folder_markers:
            self.fs.makedirs(target, exist_ok=False)
        for path, kind in self._tree(source):
            if kind != "directory":
                self.fs.cp_file(path, target + path[len(base) :])
            elif not self.folder_markers:
                self.fs.makedirs(target + path[len(base) :], exist_ok=True)
        self._remove_tree(source)

    def _remove_tree(self, top: str) -> None:
        """Remove ``top`` and everything under it; a missing one is not an error."""
        for path, kind in reversed(self._tree(top)):
            if kind != "directory":
                self.fs.rm_file(path)
            elif not self.folder_markers:
                self.fs.rmdir(path)
        with contextlib.suppress(FileNotFoundError):
            if self.folder_markers:
                return
            if self._info(top).get("type") == "directory":
                self.fs.rmdir(top)
            else:
                self.fs.rm_file(top)

    def after_replace(self, target: str, before: Entry, after: Entry) -> bool:
        """Called after a commit replaced ``before`` by ``after`` when ``mends_etags``;
        whether it changed ``target`` so that its ETag differs from ``before``'s."""
        return False
