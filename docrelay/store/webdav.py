"""WebDAV through webdav4: MOVE is the rename, and ``Overwrite: F`` refuses a taken name.

- Commits, moves, trash and restore are one ``MOVE``; without ``replace`` it carries
  ``Overwrite: F``, so the server itself refuses a taken name (412): no window.
- Uploads spool into a temporary file (memory up to one block, then disk) and are sent
  as one streamed ``PUT`` of the temporary name when complete: a WebDAV server takes no
  partial uploads in the protocol.
- Names holding ``# ? ; %`` are refused (400 with the reason) and not listed: webdav4
  puts paths into request URLs without escaping them.
- The ETag is the server's. Many servers (wsgidav, Apache's mod_dav) build it from size
  and a whole-second mtime: a same-size rewrite within one second keeps it.
"""

import contextlib
from typing import Any

from fsspec import AbstractFileSystem

from docrelay.store.fsspec import FsspecStore


class WebdavStore(FsspecStore):
    # webdav4 puts paths into URLs unescaped: these would cut a path short or break it
    refused_chars = "#?;%"
    # a read streams one GET (a seek opens another, with a Range) in chunks of this size;
    # an upload keeps this much in memory before its spool file goes to disk
    read_block = 1024 * 1024
    write_block = 1024 * 1024

    @staticmethod
    def connect_webdav4(
        base_url: str, auth: tuple[str, str] | None, options: dict[str, Any]
    ) -> AbstractFileSystem:
        from webdav4.fsspec import WebdavFileSystem

        fs: AbstractFileSystem = WebdavFileSystem(
            base_url, auth=auth, skip_instance_cache=True, **options
        )
        return fs

    def _rename(self, source: str, target: str, *, replace: bool, folder: bool) -> None:
        fs: Any = self.fs
        fs.client.move(source, target, overwrite=replace)
        fs.invalidate_cache()

    def _disconnect(self, fs: AbstractFileSystem) -> None:
        fs.client.http.close()

    def _remove_tree(self, top: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(top)  # one DELETE, of a collection with its members too
