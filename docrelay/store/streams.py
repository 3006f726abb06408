"""The file objects of ``FsspecStore``: uploads into a temporary, and translated reads."""

import contextlib
import io
from typing import TYPE_CHECKING, Any

from docrelay.store.base import Entry, Path, Writer
from docrelay.store.failures import raise_translated, translated

if TYPE_CHECKING:
    from docrelay.store.fsspec import FsspecStore


class FsspecWriter(Writer):
    """An upload into a temporary beside its real name; see ``FsspecStore``."""

    def __init__(self, store: "FsspecStore", folder: Path, temporary: str, handle: Any) -> None:
        self._store = store
        self._folder = folder
        self.temporary = temporary
        self._path = store.under(*folder, temporary)
        self._handle: Any = handle
        self._done = False

    def lost_connection(self) -> None:
        self._store.lost_connection()

    @translated
    def write(self, chunk: bytes) -> None:
        assert self._handle is not None and not self._done, "write after commit or abort"
        self._handle.write(chunk)

    @translated
    def commit(self, name: str, *, replace: bool) -> Entry:
        """After ``FileExistsError`` the bytes stay in the temporary: commit again under
        another name, or abort."""
        assert not self._done, "commit after commit or abort"
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.close()  # S3: completes the upload of the temporary
        path = (*self._folder, name)
        target = self._store.real(path)
        before = None
        if replace and self._store.mends_etags:
            with contextlib.suppress(FileNotFoundError):
                before = self._store.stat(path)
        self._store._rename(self._path, target, replace=replace, folder=False)
        self._done = True
        entry = self._store.stat(path)
        if before is not None and self._store.after_replace(target, before, entry):
            entry = self._store.stat(path)
        return entry

    @translated
    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        handle, self._handle = self._handle, None
        if handle is not None:
            discard = getattr(handle, "discard", None)
            if callable(discard):
                discard()  # S3: aborts the multipart upload; nothing was stored
                with contextlib.suppress(AttributeError):
                    handle.closed = True  # else closing it later would upload it
            else:
                handle.close()
        with contextlib.suppress(FileNotFoundError):
            self._store.fs.rm_file(self._path)


class Reader(io.RawIOBase):
    """A back-end's file object whose failures leave in the contract's terms."""

    def __init__(self, handle: Any, store: "FsspecStore") -> None:
        self._handle = handle
        self._store = store

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._handle, method)(*args)
        except Exception as error:
            raise_translated(error, self._store.lost_connection)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._call("read", len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._call("seek", offset, whence))

    def tell(self) -> int:
        return int(self._call("tell"))

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._handle.close()
        super().close()
