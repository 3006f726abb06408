"""A real ``docrelay serve`` on 127.0.0.1 and a free port, for the robustness runs.

Loopback only: the server binds 127.0.0.1 and every run talks to nothing else.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from docrelay.testing import ServeProcess

CHECKOUT = Path(__file__).resolve().parents[1]
API_KEY = "robustness-key-0123456789"
USER = "robot@example.com"
HEADERS = {"apiKey": API_KEY, "username": USER}
TEMPORARY_PREFIX = ".~docrelay-"  # an upload in progress (docrelay.names.INTERNAL_PREFIX)
# What in the server's log means docrelay failed: a traceback, an ERROR line, uvicorn's own.
_FAULT = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|Exception in ASGI application")


class Server(ServeProcess):
    """``docrelay serve`` (docrelay/testing.py) with the run's key; the access log's lines
    are counted, not kept."""

    def __init__(self, root: Path, data_dir: Path, env: dict[str, str]) -> None:
        self.requests_logged = 0
        super().__init__(
            root, data_dir, {"DOCRELAY_API_KEY": API_KEY, **env}, keep=self._not_access
        )

    def _not_access(self, line: str) -> bool:
        if " docrelay.access: " in line:
            self.requests_logged += 1
            return False
        return True

    def faults(self) -> list[str]:
        """The server's log lines that say docrelay itself failed."""
        return [line.rstrip() for line in self.stderr if _FAULT.search(line)]


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
