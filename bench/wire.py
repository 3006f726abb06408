"""HTTP/1.1 over a plain socket, for the byte-moving benchmarks.

The same tiny client measures every server: it sends one request and counts the body
into a reused 1 MiB buffer (nothing is kept), or sends a body of zeros from one reused
buffer. It reads ``Content-Length`` bodies only, which is what docrelay, nginx and
rclone send for a file. Python's own overhead here is a few system calls per MiB, far
below what the servers spend (checked against ``curl -o /dev/null``: see
docs/performance.md).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

BUFFER = 1024 * 1024


@dataclass(frozen=True)
class Transfer:
    status: int
    headers: dict[str, str]
    size: int
    seconds: float
    body: bytes = b""  # kept only for small answers (``keep_body``)

    @property
    def mib_per_second(self) -> float:
        return self.size / 1024**2 / self.seconds


def _request(method: str, target: str, headers: Mapping[str, str], length: int | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed before its headers: {data[:200]!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _colon, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, rest


def _read_body(sock: socket.socket, headers: dict[str, str], rest: bytes, keep: bool) -> bytes:
    if "content-length" not in headers:
        raise ConnectionError(f"no Content-Length in the answer: {headers}")
    length = int(headers["content-length"])
    kept = bytearray(rest) if keep else bytearray()
    received = len(rest)
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    while received < length:
        count = sock.recv_into(view)
        if count == 0:
            raise ConnectionError(f"the body ended at {received} of {length} bytes")
        received += count
        if keep:
            kept += view[:count]
    if received != length:
        raise ConnectionError(f"{received} bytes received, {length} announced")
    return bytes(kept)


def get(
    port: int, target: str, headers: Mapping[str, str] | None = None, *, keep_body: bool = False
) -> Transfer:
    """GET ``target``; the time runs from the request's first byte to the body's last."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * BUFFER)
        started = time.perf_counter()
        sock.sendall(_request("GET", target, headers or {}, None))
        status, answer, rest = _read_head(sock)
        body = _read_body(sock, answer, rest, keep_body)
        seconds = time.perf_counter() - started
    size = int(answer["content-length"])
    return Transfer(status, answer, size, seconds, body)


def put_zeros(
    port: int,
    target: str,
    size: int,
    headers: Mapping[str, str] | None = None,
) -> Transfer:
    """PUT ``size`` zero bytes as the raw body (as ``dd if=/dev/zero`` reads them)."""
    zeros = memoryview(bytes(BUFFER))
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * BUFFER)
        started = time.perf_counter()
        sock.sendall(_request("PUT", target, headers or {}, size))
        remaining = size
        while remaining > 0:
            part = zeros[: min(BUFFER, remaining)]
            sock.sendall(part)
            remaining -= len(part)
        status, answer, rest = _read_head(sock)
        body = _read_body(sock, answer, rest, True)
        seconds = time.perf_counter() - started
    return Transfer(status, answer, size, seconds, body)
