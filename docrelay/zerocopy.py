"""Downloads sent by the kernel from the page cache to the socket (``sendfile``).

uvicorn copies every body through Python: a read into memory, then a write to the
socket. nginx hands the file to the kernel instead, which sent twice as many bytes per
CPU second on the benchmark machine (docs/performance.md). The ASGI *zero-copy send*
extension (``http.response.zerocopysend``: a file, an offset and a count) lets an app
ask for that; uvicorn does not offer it, so ``ZeroCopyProtocol`` adds it to uvicorn's
httptools protocol, and sends each such message with asyncio's ``loop.sendfile``, which
uses ``os.sendfile`` on a plain TCP transport (and reads and writes through Python for
a TLS one). It needs asyncio's own event loop: uvloop has no ``sendfile``.

The app (``docrelay.api.content``) asks for it only for what the page cache holds,
where ``sendfile`` does not wait for the disk; other parts are read in a worker thread
as before, so that a cold file never holds up the event loop.
"""

import asyncio
import logging
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

ZEROCOPY = "http.response.zerocopysend"
log = logging.getLogger("docrelay.api")


class ZeroCopyCycle(RequestResponseCycle):
    """One request and response of uvicorn's, taking zero-copy send messages too."""

    async def send(self, message: Any) -> None:
        if message["type"] != ZEROCOPY:
            await super().send(message)
            return
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if (
            not self.response_started
            or self.response_complete
            or self.chunked_encoding
            or self.scope["method"] == "HEAD"
        ):
            raise RuntimeError("A zero-copy send needs a started response with a length.")
        offset, count = int(message.get("offset") or 0), int(message["count"])
        if count > self.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        loop = asyncio.get_running_loop()
        if self.transport.is_closing():
            return  # the client left: uvicorn marks the cycle disconnected
        try:
            sent = await loop.sendfile(self.transport, message["file"], offset, count)
        except OSError:  # the client left while the kernel sent
            self._abort()
            return
        except RuntimeError:
            if not self.transport.is_closing():
                raise
            return  # "Transport is closing": it left while the sends waited their turn
        self.expected_content_length -= sent
        if sent != count:  # the file was cut short meanwhile: the length was a promise
            log.warning(
                "A download ended %d bytes early: its file shrank while it was sent",
                self.expected_content_length,
            )
            self._abort()
            return
        if not message.get("more_body", False):
            await super().send({"type": "http.response.body", "body": b"", "more_body": False})

    def _abort(self) -> None:
        """Close the connection; what the app still sends goes nowhere."""
        self.transport.close()
        self.disconnected = True


class ZeroCopyProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, offering ``http.response.zerocopysend``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvloop turns Nagle's algorithm off on every TCP connection; asyncio's loop only on
        # sockets made with IPPROTO_TCP. With it on, a small body written after its headers
        # waits for the client's delayed ACK: 40 ms for a warm thumbnail.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if not isinstance(self.loop, asyncio.BaseEventLoop):
            return  # uvloop: no sendfile, so no zero-copy send either
        # The request's task is created, not yet started: it sends through this cycle.
        if cycle is not None and type(cycle) is RequestResponseCycle:
            cycle.__class__ = ZeroCopyCycle
            cycle.scope.setdefault("extensions", {})[ZEROCOPY] = {}
