"""download and thumbnail: a file's bytes, streamed, and its preview."""

import email.utils
import io
import logging
import os
import unicodedata
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from docrelay import audit
from docrelay.api.context import Call
from docrelay.api.ranges import byte_range, not_modified, quoted_etag
from docrelay.catalog.items import PENDING, Item
from docrelay.errors import BadRequest, CutShort, NotFound
from docrelay.mediatypes import media_type
from docrelay.services import Services
from docrelay.store.base import Path
from docrelay.thumbnails import Thumbnail, box_width
from docrelay.zerocopy import ZEROCOPY

# What the page cache holds is read in the event loop: a read in a worker thread costs
# two thread wake-ups, which held 256 KiB reads to 0.6x nginx's speed. At 1 MiB a slow
# client holds about 4 MiB of memory; larger reads gain nothing (docs/performance.md).
log = logging.getLogger("docrelay.api")

CHUNK = 1024 * 1024
SENDFILE_CHUNK = 16 * CHUNK  # a range of the page cache the kernel sends in one go
_NOWAIT = getattr(os, "RWF_NOWAIT", None)  # Linux: read only what the page cache holds
_ATTR_CHAR = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name as ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = (
        "".join(
            char if char.isprintable() and char not in '"\\%' else "_" for char in ascii_name
        ).strip()
        or "download"
    )
    encoded = quote(name, safe=_ATTR_CHAR)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _descriptor(handle: BinaryIO) -> int | None:
    """The descriptor of a file opened on this machine (the local store's), for reads
    that never wait; ``None`` for other stores' file objects, whose bytes need not be
    those of any descriptor they hold."""
    raw = getattr(handle, "raw", handle)
    return raw.fileno() if _NOWAIT is not None and isinstance(raw, io.FileIO) else None


def _cached(descriptor: int, position: int, size: int) -> memoryview | None:
    """What the page cache holds from ``position`` on, read in the event loop without
    waiting for the disk; ``None`` when none of it is there (EAGAIN) or the file system
    cannot tell (EOPNOTSUPP: NFS, some FUSE file systems)."""
    buffer = bytearray(size)
    try:
        count = os.preadv(descriptor, [buffer], position, _NOWAIT or 0)
    except OSError:
        return None
    return memoryview(buffer)[:count]


@dataclass(frozen=True)
class _InCache:
    """Bytes of the file the page cache holds, for the server to send itself."""

    offset: int
    count: int


def _in_cache(descriptor: int, position: int, size: int) -> bool:
    """Whether the page cache holds the first and the last page of these bytes (read
    ahead in order, the pages between are there too, or the kernel reads the few that
    are not while it sends)."""
    probe = bytearray(1)
    try:
        return all(
            os.preadv(descriptor, [probe], at, _NOWAIT or 0) == 1
            for at in (position, position + size - 1)
        )
    except OSError:  # EAGAIN: not cached; EOPNOTSUPP: the file system cannot tell
        return False


async def _stream(
    handle: BinaryIO, first: int, length: int, zero_copy: bool = False
) -> AsyncGenerator[bytes | memoryview | _InCache]:
    """The bytes ``first`` to ``first + length``: from the page cache at once when they
    are there (with ``zero_copy``, as ranges for the server to send from the file),
    otherwise (and for stores' own file objects) read in a worker thread."""
    descriptor = _descriptor(handle)
    zero_copy = zero_copy and descriptor is not None
    try:
        if first and descriptor is None:
            await anyio.to_thread.run_sync(handle.seek, first)
        position, remaining = first, length
        while remaining > 0:
            size = min(SENDFILE_CHUNK if zero_copy else CHUNK, remaining)
            chunk: bytes | memoryview | None
            if zero_copy and descriptor is not None and _in_cache(descriptor, position, size):
                position += size
                remaining -= size
                yield _InCache(position - size, size)
                continue
            size = min(CHUNK, size)
            if descriptor is None:
                chunk = await anyio.to_thread.run_sync(handle.read, size)
            else:
                chunk = _cached(descriptor, position, size)
                if chunk is None:
                    chunk = await anyio.to_thread.run_sync(os.pread, descriptor, size, position)
            if not chunk:
                log.warning(
                    "A download ended %d bytes early: its file shrank while it was sent",
                    remaining,
                )
                raise CutShort  # the connection is closed: the client sees the length short
            position += len(chunk)
            remaining -= len(chunk)
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):  # also when the client left (a cancellation)
            await anyio.to_thread.run_sync(handle.close)


class FileBytes(StreamingResponse):
    """A file's bytes, sent by the kernel (``sendfile``) where the server offers the ASGI
    zero-copy send (docrelay.zerocopy) and the page cache holds them, and otherwise as
    chunks read by docrelay."""

    def __init__(
        self, handle: BinaryIO, first: int, length: int, status_code: int, headers: dict[str, str]
    ) -> None:
        super().__init__([], status_code=status_code, headers=headers)
        self._file = (handle, first, length)
        self._parts: AsyncGenerator[bytes | memoryview | _InCache] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handle, first, length = self._file
        zero_copy = ZEROCOPY in scope.get("extensions", {})
        self._parts = _stream(handle, first, length, zero_copy)
        await super().__call__(scope, receive, send)

    async def stream_response(self, send: Send) -> None:
        handle = self._file[0]
        assert self._parts is not None
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for part in self._parts:
                if isinstance(part, _InCache):
                    message = {"file": handle, "offset": part.offset, "count": part.count}
                    await send({"type": ZEROCOPY, **message, "more_body": True})
                else:
                    await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await self._parts.aclose()  # closes the file, also when the client left


async def file_response(services: Services, request: Request, item: Item, path: Path) -> Response:
    """The file's bytes as SPEC.md's ``/download`` sends them (also behind downloadLink)."""
    audit.note(request, item, path)
    if item.is_folder:
        raise BadRequest("The id is a folder; only files can be downloaded.")
    if item.state == PENDING or item.etag is None:
        raise NotFound("The file has no content yet.")
    accel = services.settings.accel_redirect
    if accel and services.store.on_this_machine(path):
        return _sent_by_nginx(accel, item, path)
    mtime_seconds = item.mtime_ms // 1000
    last_modified = email.utils.formatdate(mtime_seconds, usegmt=True)
    headers = {
        "ETag": quoted_etag(item.etag),
        "Last-Modified": last_modified,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(item.title),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache",
    }
    request_headers = {key.lower(): value for key, value in request.headers.items()}
    if not_modified(request_headers, item.etag, mtime_seconds):
        return Response(status_code=304, headers=headers)
    size = item.size
    chosen = byte_range(request_headers, size, item.etag, last_modified)
    first, last = chosen if chosen is not None else (0, size - 1)
    length = max(last - first + 1, 0)
    headers["Content-Length"] = str(length)
    status = 200
    if chosen is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Type"] = media_type(item.title)  # as it is: no charset is guessed
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    handle = await anyio.to_thread.run_sync(services.store.open_read, path)
    return FileBytes(handle, first, length, status, headers)


def _sent_by_nginx(location: str, item: Item, path: Path) -> Response:
    """The answer an nginx in front turns into the file's bytes from its ``internal``
    ``location``: nginx answers HEAD, Range, If-None-Match and If-Range itself, from the
    file as it is when it opens it, with its own ETag and Last-Modified. nginx keeps
    Content-Type, Content-Disposition and Cache-Control from this answer; the location
    adds the two security headers (deploy/nginx-docrelay.conf)."""
    headers = {
        "X-Accel-Redirect": location + quote("/".join(path), safe="/"),
        "Content-Type": media_type(item.title),
        "Content-Disposition": content_disposition(item.title),
        "Cache-Control": "private, no-cache",
    }
    return Response(status_code=200, headers=headers)


async def download(call: Call) -> Response:
    item, path = await call.visible(call.params.required("id"))
    return await file_response(call.services, call.request, item, path)


async def thumbnail_response(
    services: Services, item: Item, path: Path, size: str | None
) -> Response:
    try:
        width = box_width(size)
    except ValueError:
        raise BadRequest("The parameter 'size' must be a whole number.") from None
    store = services.store
    has_bytes = item.kind == "file" and item.state != PENDING

    def render() -> Thumbnail:
        return services.thumbnails.thumbnail(
            key=f"{item.id}-{item.etag}",
            name=item.title,
            mime_type=media_type(item.title) if item.kind == "file" else None,
            kind=item.kind,
            width=width,
            open_source=(lambda: store.open_read(path)) if has_bytes else None,
        )

    result = await anyio.to_thread.run_sync(render)
    return Response(
        result.data,
        media_type=result.content_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"},
    )


async def thumbnail(call: Call) -> Response:
    item, path = await call.visible(call.params.required("id"))
    audit.note(call.request, item, path)
    return await thumbnail_response(call.services, item, path, call.params.get("size"))
