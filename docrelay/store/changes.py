"""Knowing, without listing it again, that a local folder's listing has not changed.

A listing of a big folder costs a ``stat`` per child. The kernel's inotify reports every
change to a folder's entries (created, deleted, renamed) and to its files (written,
truncated, touched, chmod-ed) the moment the system call makes it: a change made by any
process, before that process's call returns. So a folder that is watched, whose watch
reported nothing since its listing was taken, lists as it did, except for what inotify
on the folder does not see:

- a child folder's own entries changing (its modification time): child folders are
  stat-ed again every time;
- a file reached through a link, or with a second name elsewhere (a hard link), written
  through that other name: such children are stat-ed again every time too;
- changes made on another machine, which a network file system (NFS, SMB, FUSE mounts
  such as sshfs) does not report: only folders on file systems where the kernel sees
  every change (``RELIABLE``) are trusted; every other folder is listed every time.

Watches are few (``limit``, the most recently listed folders) and the events are read,
without waiting, when a stamp is asked for.

Known gap: a file that gets its second name (a hard link elsewhere) after the listing was
taken is not among the children checked every time, and a write through that name raises
no event here; docrelay/catalog/listings.py lists such a folder again after
``TRUST_SECONDS`` at the latest.
"""

import contextlib
import errno
import itertools
import logging
import os
import stat as stat_module
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from docrelay.names import INTERNAL_PREFIX

log = logging.getLogger("docrelay.store.local")

#: file systems of this kernel, whose every change goes through it (and so reaches inotify)
RELIABLE = frozenset(
    {
        "btrfs",
        "ext2",
        "ext3",
        "ext4",
        "f2fs",
        "jfs",
        "bcachefs",
        "overlay",
        "ramfs",
        "reiserfs",
        "tmpfs",
        "xfs",
        "zfs",
    }
)

try:
    from inotify_simple import INotify
    from inotify_simple import flags as _flags
except (ImportError, OSError):  # not Linux
    INotify = None

if INotify is not None:
    _MASK = (
        _flags.MODIFY
        | _flags.ATTRIB
        | _flags.CLOSE_WRITE
        | _flags.MOVED_FROM
        | _flags.MOVED_TO
        | _flags.CREATE
        | _flags.DELETE
        | _flags.DELETE_SELF
        | _flags.MOVE_SELF
        | _flags.ONLYDIR
    )


@dataclass(eq=False)
class _Watch:
    wd: int
    identity: tuple[int, int]  # st_dev, st_ino of the folder watched
    serial: int  # differs for every watch ever made: a stamp never matches across watches
    changes: int = 0
    paths: set[str] = field(default_factory=set)
    rechecked: tuple[str, ...] = ()  # children stat-ed on every stamp (see the module)


def file_systems() -> dict[int, str]:
    """Each mounted file system's device number and type, from /proc/self/mountinfo."""
    found: dict[int, str] = {}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                fields, _dash, rest = line.partition(" - ")
                parts = fields.split()
                kind = rest.split(" ", 1)[0]
                if len(parts) < 3 or ":" not in parts[2]:
                    continue
                major, minor = parts[2].split(":", 1)
                found[os.makedev(int(major), int(minor))] = kind
    except (OSError, ValueError):
        pass
    return found


def _recheck_key(path: str) -> Hashable:
    """What a child that file events may not tell of is now: for a link, also where it
    leads (a link further along its chain can be pointed elsewhere)."""
    try:
        own = os.lstat(path)
        target = os.stat(path) if stat_module.S_ISLNK(own.st_mode) else own
        leads = os.path.realpath(path) if stat_module.S_ISLNK(own.st_mode) else None
    except OSError as error:
        return error.errno
    return (
        leads,
        own.st_ino,
        own.st_mtime_ns,
        target.st_ino,
        target.st_dev,
        target.st_size,
        target.st_mtime_ns,
        target.st_mode,
    )


class FolderChanges:
    """inotify watches on recently listed folders, and the stamps built from them."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._inotify = None
        self._by_wd: dict[int, _Watch] = {}
        self._by_path: OrderedDict[str, _Watch] = OrderedDict()
        self._epoch = 0  # bumped when the kernel dropped events (queue overflow)
        self._serials = itertools.count(1)
        self._file_systems: dict[int, str] = {}
        if INotify is None or limit <= 0:
            return
        try:
            self._inotify = INotify(nonblocking=True)
        except OSError as error:  # e.g. fs.inotify.max_user_instances reached
            log.warning("File events for listings are off: %s", error)

    @property
    def active(self) -> bool:
        return self._inotify is not None

    def file_system(self, device: int) -> str:
        if device not in self._file_systems:
            self._file_systems = file_systems()  # a file system mounted since
            self._file_systems.setdefault(device, "unknown")
        return self._file_systems[device]

    def trusted(self, device: int) -> bool:
        return self.file_system(device) in RELIABLE

    def stamp(self, directory: str) -> Hashable | None:
        """A value equal to the one asked for before if and only if (as far as the kernel
        tells) the folder lists as it did then; None if that cannot be told."""
        if self._inotify is None:
            return None
        try:
            info = os.stat(directory)
        except OSError:
            return None
        if not stat_module.S_ISDIR(info.st_mode) or not self.trusted(info.st_dev):
            return None
        with self._lock:
            self._read_events()
            watch = self._by_path.get(directory)
            if watch is not None and watch.identity != (info.st_dev, info.st_ino):
                self._forget_path(directory)  # another folder is at this path now
                watch = None
            if watch is None:
                watch = self._watch(directory, (info.st_dev, info.st_ino))
                if watch is None:
                    return None
            else:
                self._by_path.move_to_end(directory)
            taken = (self._epoch, watch.serial, watch.changes)
            rechecked = watch.rechecked
        return (taken, tuple(_recheck_key(os.path.join(directory, name)) for name in rechecked))

    def listed(self, directory: str, rechecked: Iterable[str]) -> None:
        """Record the children of a listing of ``directory`` that every stamp checks."""
        with self._lock:
            watch = self._by_path.get(directory)
            if watch is not None:
                watch.rechecked = tuple(rechecked)

    def _watch(self, directory: str, identity: tuple[int, int]) -> _Watch | None:
        assert self._inotify is not None
        try:
            wd = self._inotify.add_watch(directory, _MASK)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                log.warning(
                    "File events for listings: no inotify watch left "
                    "(fs.inotify.max_user_watches); big folders are listed every time"
                )
            return None
        try:
            after = os.stat(directory)
        except OSError:
            after = None
        watch = self._by_wd.get(wd)
        if after is None or (after.st_dev, after.st_ino) != identity:
            if watch is None:  # the folder was swapped while it was being watched
                self._inotify.rm_watch(wd)
            return None
        if watch is None:
            watch = _Watch(wd=wd, identity=identity, serial=next(self._serials))
            self._by_wd[wd] = watch
        watch.paths.add(directory)
        self._by_path[directory] = watch
        while len(self._by_path) > self.limit:
            self._forget_path(next(iter(self._by_path)))
        return watch

    def _forget_path(self, directory: str) -> None:
        watch = self._by_path.pop(directory, None)
        if watch is None:
            return
        watch.paths.discard(directory)
        if not watch.paths:
            self._forget_watch(watch)

    def _forget_watch(self, watch: _Watch) -> None:
        assert self._inotify is not None
        if self._by_wd.pop(watch.wd, None) is None:
            return
        for path in watch.paths:
            self._by_path.pop(path, None)
        watch.paths.clear()
        with contextlib.suppress(OSError):  # the kernel dropped it: the folder was deleted
            self._inotify.rm_watch(watch.wd)

    def _read_events(self) -> None:
        assert self._inotify is not None
        for event in self._inotify.read(timeout=0):
            if event.mask & _flags.Q_OVERFLOW:
                self._epoch += 1
                continue
            watch = self._by_wd.get(event.wd)
            if watch is None:
                continue
            if event.mask & _flags.IGNORED:  # the watch is gone: the folder was deleted
                watch.changes += 1
                self._by_wd.pop(event.wd, None)
                for path in watch.paths:
                    self._by_path.pop(path, None)
                continue
            if event.name.startswith(INTERNAL_PREFIX):
                continue  # an upload's temporary, not listed (its commit is an event)
            watch.changes += 1
            if event.mask & (_flags.MOVE_SELF | _flags.DELETE_SELF):
                self._forget_watch(watch)

    def close(self) -> None:
        with self._lock:
            if self._inotify is not None:
                self._inotify.close()
                self._inotify = None

    def __del__(self) -> None:  # a store dropped without close(), e.g. by a test
        inotify = getattr(self, "_inotify", None)
        if inotify is not None:
            inotify.close()
