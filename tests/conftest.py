"""Shared fixtures: a docrelay app on a temporary folder, called in-process through httpx."""

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pgdb import database_url_for, postgres_catalog_of_test, postgres_catalogs  # noqa: F401
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.config import Settings

API_KEY = "test-key-0123456789"
USER = "ada@example.com"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "root": str(tmp_path / "documents"),
        "data_dir": tmp_path / "data",
        "api_key": API_KEY,
        "public_url": "http://docrelay.test",
        "crawl_interval": 0,
        "watch": False,
    }
    values.update(overrides)
    if "database_url" not in values:  # SQLite in data_dir, or PostgreSQL: see pgdb.py
        values["database_url"] = database_url_for(values["data_dir"])
    return Settings(**values)


class Workfront:
    """Calls the app the way Workfront's servers do."""

    def __init__(self, client: TestClient, root: Path, user: str = USER) -> None:
        self.client = client
        self.root = root
        self.headers = {"apiKey": API_KEY, "username": user}

    def call(self, method: str, endpoint: str, auth: bool = True, **kwargs: Any) -> Any:
        headers = dict(self.headers) if auth else {}
        headers.update(kwargs.pop("headers", {}))
        return self.client.request(method, f"/api/{endpoint}", headers=headers, **kwargs)

    def get(self, endpoint: str, **kwargs: Any) -> Any:
        return self.call("GET", endpoint, **kwargs)

    def ok(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        response = self.call(method, endpoint, **kwargs)
        assert response.status_code == 200, (endpoint, response.status_code, response.text)
        return response.json()

    def folder(self, parent_id: str, name: str) -> dict[str, Any]:
        return self.ok("POST", "createFolder", params={"parentId": parent_id, "name": name})  # type: ignore[no-any-return]

    def upload(self, parent_id: str, filename: str, content: bytes) -> dict[str, Any]:
        item = self.ok("POST", "uploadInit", params={"parentId": parent_id, "filename": filename})
        put = self.call("PUT", "upload", params={"id": item["id"]}, content=content)
        assert put.status_code == 200, put.text
        return item  # type: ignore[no-any-return]

    def files(self, parent_id: str = "/", **params: Any) -> list[dict[str, Any]]:
        return self.ok("GET", "files", params={"parentId": parent_id, **params})  # type: ignore[no-any-return]

    def metadata(self, item_id: str) -> dict[str, Any]:
        return self.ok("GET", "metadata", params={"id": item_id})  # type: ignore[no-any-return]

    def search(self, query: str, **params: Any) -> list[dict[str, Any]]:
        return self.ok("GET", "search", params={"query": query, **params})  # type: ignore[no-any-return]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://docrelay.test") as test_client:
        yield test_client


@pytest.fixture
def wf(client: TestClient, settings: Settings) -> Workfront:
    return Workfront(client, Path(settings.root))


# --- the real server, started as a subprocess on a free port ------------------------------

DOCRELAY = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "docrelay"
_LISTENING = re.compile(r"Listening on http://127\.0\.0\.1:(\d+)")


class Server:
    """``docrelay serve`` in a subprocess; its output is drained by threads as it comes."""

    def __init__(
        self, root: Path | str, data_dir: Path, env: dict[str, str], port: int = 0
    ) -> None:
        self.root = root
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.process = subprocess.Popen(
            [
                str(DOCRELAY),
                "serve",
                "--root",
                str(root),
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
            ],
            env={**os.environ, "DOCRELAY_DATA_DIR": str(data_dir), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._drains = [
            threading.Thread(target=self._drain, args=(stream, lines), daemon=True)
            for stream, lines in (
                (self.process.stdout, self.stdout),
                (self.process.stderr, self.stderr),
            )
        ]
        for drain in self._drains:
            drain.start()
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_until_healthy()

    @staticmethod
    def _drain(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)
        stream.close()

    def _wait_for_port(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stderr):
                found = _LISTENING.search(line)
                if found:
                    return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise AssertionError("docrelay did not start:\n" + "".join(self.stderr))

    def _wait_until_healthy(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("docrelay never answered /healthz:\n" + "".join(self.stderr))

    def _finish(self) -> None:
        self.process.wait(timeout=15)
        for drain in self._drains:
            drain.join(timeout=5)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end; waits for the output to be read."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._finish()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self._finish()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Starts servers (``start_server(root, data_dir, **env)``) and stops them all after."""
    started: list[Server] = []

    def start(root: Path, data_dir: Path, **env: str) -> Server:
        server = Server(root, data_dir, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
