"""A real ``docrelay serve`` on 127.0.0.1 and a free port, for the robustness runs.

Loopback only: the server binds 127.0.0.1 and every run talks to nothing else.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CHECKOUT = Path(__file__).resolve().parents[1]
DOCRELAY = CHECKOUT / ".venv" / "bin" / "docrelay"
API_KEY = "robustness-key-0123456789"
USER = "robot@example.com"
HEADERS = {"apiKey": API_KEY, "username": USER}
TEMPORARY_PREFIX = ".~docrelay-"  # an upload in progress (docrelay.names.INTERNAL_PREFIX)
_LISTENING = re.compile(r"Listening on http://127\.0\.0\.1:(\d+)")
# What in the server's log means docrelay failed: a traceback, an ERROR line, uvicorn's own.
_FAULT = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Exception in ASGI application")


class Server:
    """``docrelay serve`` in a subprocess; its standard error is kept as it comes."""

    def __init__(self, root: Path, data_dir: Path, env: dict[str, str]) -> None:
        self.root = root
        self.stderr: list[str] = []
        self.requests_logged = 0
        self.process = subprocess.Popen(
            [str(DOCRELAY), "serve", "--root", str(root), "--host", "127.0.0.1", "--port", "0"],
            env={
                **os.environ,
                "DOCRELAY_DATA_DIR": str(data_dir),
                "DOCRELAY_API_KEY": API_KEY,
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self.url = f"http://127.0.0.1:{self._port()}"
        self._wait_until_healthy()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if " docrelay.access: " in line:
                self.requests_logged += 1  # one per request: counted, not kept
            else:
                self.stderr.append(line)

    def _port(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in list(self.stderr):
                found = _LISTENING.search(line)
                if found:
                    return int(found.group(1))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docrelay did not start:\n" + "".join(self.stderr))

    def _wait_until_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docrelay never answered /healthz:\n" + "".join(self.stderr))

    def faults(self) -> list[str]:
        """The server's log lines that say docrelay itself failed."""
        return [line.rstrip() for line in self.stderr if _FAULT.search(line)]

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._drain.join(timeout=5)


@contextmanager
def running_server(**env: str) -> Iterator[Server]:
    """A server on a new temporary root and data folder, stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix="docrelay-robustness-") as scratch:
        root = Path(scratch) / "documents"
        root.mkdir()
        server = Server(root, Path(scratch) / "data", env)
        try:
            yield server
        finally:
            server.stop()


class Api:
    """Workfront's calls to the server, for setting up and checking a run."""

    def __init__(self, server: Server, timeout: float = 30) -> None:
        self.client = httpx.Client(base_url=f"{server.url}/api", headers=HEADERS, timeout=timeout)

    def ok(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/{endpoint}", **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"{method} /{endpoint}: {response.status_code} {response.text}")
        return response.json()

    def folder(self, parent_id: str, name: str) -> dict[str, Any]:
        return self.ok("POST", "createFolder", params={"parentId": parent_id, "name": name})  # type: ignore[no-any-return]

    def upload(self, parent_id: str, filename: str, content: bytes, **extra: str) -> Any:
        params = {"parentId": parent_id, "filename": filename, **extra}
        item = self.ok("POST", "uploadInit", params=params)
        self.ok("PUT", "upload", params={"id": item["id"]}, content=content)
        return item

    def close(self) -> None:
        self.client.close()


def temporaries(root: Path) -> list[Path]:
    """docrelay's upload temporaries left anywhere under the root."""
    return [path for path in root.rglob("*") if path.name.startswith(TEMPORARY_PREFIX)]
