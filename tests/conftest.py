"""Shared fixtures: a docrelay app on a temporary folder, called in-process through httpx."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pgdb import database_url_for, postgres_catalog_of_test, postgres_catalogs  # noqa: F401
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.config import Settings
from docrelay.testing import ServeProcess

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

#: ``docrelay serve`` in a subprocess on 127.0.0.1 and a free port (docrelay/testing.py)
Server = ServeProcess


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
