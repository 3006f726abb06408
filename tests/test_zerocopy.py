"""Downloads through uvicorn with zero-copy sends (docrelay/zerocopy.py), as served.

A uvicorn server runs in a thread with the configuration ``docrelay serve`` uses, so
that the test can count the kernel sends (``loop.sendfile``) it makes. Every answer is
compared with the bytes on disk.
"""

import asyncio
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from conftest import API_KEY, make_settings

from docrelay.app import create_app
from docrelay.serve import uvicorn_config
from docrelay.zerocopy import ZEROCOPY

HEADERS = {"apiKey": API_KEY, "username": "ada@example.com"}


class Running:
    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn_config(app))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (offset, count) of every loop.sendfile the server makes."""
    made: list[tuple[int, int]] = []
    original = asyncio.BaseEventLoop.sendfile

    async def counted(
        self: Any,
        transport: Any,
        file: Any,
        offset: int = 0,
        count: Any = None,
        *,
        fallback: bool = True,
    ) -> int:
        made.append((offset, count))
        return await original(self, transport, file, offset, count, fallback=fallback)

    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", counted)
    return made


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Running, Path]]:
    settings = make_settings(tmp_path)
    root = Path(settings.root)
    root.mkdir(parents=True)
    running = Running(create_app(settings))
    yield running, root
    running.stop()


def _file(root: Path, name: str, mib: int) -> tuple[str, bytes]:
    content = b"".join(
        hashlib.sha256(f"{name}{n}".encode()).digest() * 32 for n in range(mib * 1024)
    )  # mib MiB of bytes that differ everywhere
    (root / name).write_bytes(content)
    return name, content


def _ids(http: httpx.Client, url: str) -> dict[str, str]:
    listed = http.get(f"{url}/api/files", params={"parentId": "/"}, headers=HEADERS).json()
    return {item["title"]: item["id"] for item in listed}


def test_the_kernel_sends_what_the_page_cache_holds(
    served: tuple[Running, Path], sends: list[tuple[int, int]]
) -> None:
    running, root = served
    name, content = _file(root, "big.bin", 40)
    with httpx.Client(timeout=60) as http:
        ids = _ids(http, running.url)
        for _ in range(2):  # twice over one kept-alive connection
            whole = http.get(
                f"{running.url}/api/download", params={"id": ids[name]}, headers=HEADERS
            )
            assert whole.status_code == 200
            assert whole.headers["content-length"] == str(len(content))
            assert whole.content == content
        assert sends, "no zero-copy send was made"
        assert sum(count for _offset, count in sends) == 2 * len(content)
        sends.clear()
        part = http.get(
            f"{running.url}/api/download",
            params={"id": ids[name]},
            headers={**HEADERS, "Range": "bytes=1000000-30000000"},
        )
        assert part.status_code == 206
        assert part.content == content[1_000_000:30_000_001]
        assert sends[0][0] == 1_000_000
        head = http.head(f"{running.url}/api/download", params={"id": ids[name]}, headers=HEADERS)
        assert head.content == b"" and head.headers["content-length"] == str(len(content))


def test_small_answers_are_not_held_back_by_nagle(served: tuple[Running, Path]) -> None:
    running, _root = served
    with httpx.Client(timeout=60) as http:
        assert http.get(f"{running.url}/healthz").status_code == 200
        [connection] = running.server.server_state.connections
        sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def _evict(path: Path, offset: int = 0, length: int = 0) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), offset, length, os.POSIX_FADV_DONTNEED)


@pytest.mark.parametrize("evicted", ["all", "middle", "end"])
def test_what_the_page_cache_lacks_is_read_by_docrelay(
    served: tuple[Running, Path], evicted: str
) -> None:
    running, root = served
    name, content = _file(root, f"cold-{evicted}.bin", 40)
    with httpx.Client(timeout=60) as http:
        ids = _ids(http, running.url)
        span = {"all": (0, 0), "middle": (10 << 20, 7 << 20), "end": (35 << 20, 0)}[evicted]
        _evict(root / name, *span)
        answer = http.get(f"{running.url}/api/download", params={"id": ids[name]}, headers=HEADERS)
        assert answer.content == content


def test_a_client_that_leaves_mid_download_harms_nothing(
    served: tuple[Running, Path], caplog: pytest.LogCaptureFixture
) -> None:
    running, root = served
    name, content = _file(root, "left.bin", 64)
    with httpx.Client(timeout=60) as http:
        ids = _ids(http, running.url)
    port = int(running.url.rsplit(":", 1)[1])
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", port)) as raw:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                raw.sendall(
                    f"GET /api/download?id={ids[name]} HTTP/1.1\r\nHost: x\r\n"
                    f"apiKey: {API_KEY}\r\nusername: ada@example.com\r\n\r\n".encode()
                )
                raw.recv(100_000)  # a little, then gone
        with httpx.Client(timeout=60) as http:
            again = http.get(
                f"{running.url}/api/download", params={"id": ids[name]}, headers=HEADERS
            )
        assert again.content == content
        time.sleep(0.2)
    faults = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert faults == [], [record.getMessage() for record in faults]


# --- the protocol alone, with a bare ASGI app ---------------------------------------------


def _raw_app(parts: Callable[[Any], list[dict[str, Any]]], length: int) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]  # lifespan.startup, then .shutdown
                await send({"type": f"{event}.complete"})
                if event == "lifespan.shutdown":
                    return
        assert ZEROCOPY in scope["extensions"]
        headers = [(b"content-length", str(length).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for message in parts(scope):
            await send(message)

    return app


def test_zero_copy_sends_mix_with_body_messages(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    (tmp_path / "f").write_bytes(data)
    handle = open(tmp_path / "f", "rb")  # noqa: SIM115 - closed below

    def parts(_scope: Any) -> list[dict[str, Any]]:
        return [
            {"type": "http.response.body", "body": b"head:", "more_body": True},
            {"type": ZEROCOPY, "file": handle, "offset": 100, "count": 5000, "more_body": True},
            {"type": ZEROCOPY, "file": handle, "offset": 0, "count": 10, "more_body": False},
        ]

    running = Running(_raw_app(parts, 5 + 5000 + 10))
    try:
        answer = httpx.get(running.url, timeout=30)
        assert answer.content == b"head:" + data[100:5100] + data[:10]
    finally:
        running.stop()
        handle.close()


def test_a_file_shorter_than_promised_ends_the_connection(tmp_path: Path) -> None:
    (tmp_path / "short").write_bytes(b"only this")
    handle = open(tmp_path / "short", "rb")  # noqa: SIM115 - closed below

    def parts(_scope: Any) -> list[dict[str, Any]]:
        return [{"type": ZEROCOPY, "file": handle, "offset": 0, "count": 100, "more_body": False}]

    running = Running(_raw_app(parts, 100))
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(running.url, timeout=30)
    finally:
        running.stop()
        handle.close()
