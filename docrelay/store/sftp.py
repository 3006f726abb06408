"""SFTP through sshfs (asyncssh): a real rename, and no clobbering without a window.

sshfs rather than fsspec's built-in paramiko back-end: it is asynchronous, pipelines
reads and writes (several requests in flight, which is what makes SFTP fast over a
long link), reads ``~/.ssh`` keys and the ssh agent like OpenSSH does, and raises
``OSError`` types for missing files and refused access.

- A commit that replaces uses OpenSSH's ``posix-rename``: atomic.
- A commit or move that must not replace uses the protocol's plain ``rename``, which
  never replaces: OpenSSH's server links the new name and unlinks the old one, so a
  name taken meanwhile makes it fail instead of being overwritten.
- SFTP (version 3, what OpenSSH speaks) gives modification times in whole seconds and
  no inode: the ETag is size and mtime. So that a same-size upload within the same
  second still changes it, ``commit`` moves the new file's mtime on by a second when
  the ETag would not change.
"""

import errno
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.asyn import sync

from docrelay.store.base import Entry
from docrelay.store.fsspec import FsspecStore


class SftpStore(FsspecStore):
    mends_etags = True
    # sshfs sizes requests by the server's limits (OpenSSH drops a connection that is
    # sent a message over 256 KiB) and keeps up to 128 of them in flight
    read_block = None
    write_block = None

    @staticmethod
    def connect_sshfs(host: str, options: dict[str, Any]) -> AbstractFileSystem:
        from sshfs import SSHFileSystem

        fs: AbstractFileSystem = SSHFileSystem(host, skip_instance_cache=True, **options)
        return fs

    def _call(self, method: str, *args: Any) -> Any:
        """Call an ``asyncssh.SFTPClient`` method on one of sshfs's channels.

        sshfs exposes no plain rename and no utime; its channel pool is how it calls
        the SFTP client itself.
        """
        fs: Any = self.fs

        async def call() -> Any:
            async with fs._pool.get() as channel:
                return await getattr(channel, method)(*args)

        return sync(fs.loop, call)

    def _rename(self, source: str, target: str, *, replace: bool, folder: bool) -> None:
        if replace:
            self.fs.mv(source, target)  # posix-rename@openssh.com
            return
        from asyncssh.sftp import SFTPFailure

        try:
            self._call("rename", source, target)
        except SFTPFailure:
            # OpenSSH answers a taken name with a bare "Failure": look whether it is
            if self._exists(target):
                raise FileExistsError(errno.EEXIST, "taken", target) from None
            raise

    def after_replace(self, target: str, before: Entry, after: Entry) -> bool:
        if after.etag != before.etag:
            return False
        seconds = max(after.mtime_ns, before.mtime_ns) // 1_000_000_000 + 1
        self._call("utime", target, (seconds, seconds))
        return True

    def _disconnect(self, fs: AbstractFileSystem) -> None:
        """What sshfs's own finalizer does, but now: close the channels, then the
        connection."""
        sshfs: Any = fs

        async def close() -> None:
            await sshfs._pool.close()
            await sshfs._stack.aclose()

        sync(sshfs.loop, close, timeout=5)

    def _remove_tree(self, top: str) -> None:
        if self._exists(top):
            self.fs.rm(top, recursive=True)  # sshfs's own: the server's rmtree, no globbing
