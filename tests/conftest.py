"""Shared fixtures: a docrelay app on a temporary folder, called in-process through httpx."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
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
