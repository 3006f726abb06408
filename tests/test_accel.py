"""accel_redirect: docrelay authorises a download and names the file for nginx to send.

tests/test_nginx.py runs it behind a real nginx; here, docrelay's own answer.
"""

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pydantic
import pytest
from conftest import API_KEY, Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.config import Settings

PREFIX = "/.docrelay-files/"


def _client(tmp_path: Path, **settings: Any) -> TestClient:
    values = make_settings(tmp_path, accel_redirect=PREFIX, **settings)
    return TestClient(create_app(values), base_url="http://docrelay.test")


def test_a_download_names_the_file_under_the_location(tmp_path: Path) -> None:
    root = tmp_path / "documents"
    (root / "a b").mkdir(parents=True)
    name = "50% ready? #2 é.txt"
    (root / "a b" / name).write_bytes(b"bytes for nginx")
    with _client(tmp_path) as client:
        wf = Workfront(client, root)
        [folder] = wf.files("/")
        [item] = wf.files(folder["id"])
        answer = wf.get("download", params={"id": item["id"]})
        assert answer.status_code == 200
        assert answer.content == b""  # nginx sends the bytes
        assert answer.headers["x-accel-redirect"] == PREFIX + quote(f"a b/{name}", safe="/")
        assert answer.headers["content-type"] == "text/plain"
        rfc5987 = quote(name, safe="!#$&+-.^_`|~")  # attr-chars stay as they are
        assert answer.headers["content-disposition"].endswith(f"filename*=UTF-8''{rfc5987}")
        assert (
            wf.get("download", params={"id": item["id"]}, headers={"apiKey": "no"}).status_code
            == 403
        )
        (root / "a b" / name).unlink()
        assert wf.get("download", params={"id": item["id"]}).status_code == 404


def test_files_of_other_stores_are_still_streamed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, root="memory://accel-test", accel_redirect=PREFIX)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path("/nonexistent"))
        item = wf.upload("/", "kept.txt", b"streamed by docrelay")
        answer = wf.get("download", params={"id": item["id"]})
        assert "x-accel-redirect" not in answer.headers
        assert answer.content == b"streamed by docrelay"


@pytest.mark.parametrize("value", ["docrelay-files/", "/a b/", "/files?x/", "/%2e/"])
def test_the_location_must_be_a_plain_path(tmp_path: Path, value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="accel_redirect"):
        Settings(root=str(tmp_path), api_key=API_KEY, accel_redirect=value)


def test_a_location_without_its_last_slash_gets_one(tmp_path: Path) -> None:
    settings = Settings(root=str(tmp_path), accel_redirect="/.docrelay-files")
    assert settings.accel_redirect == PREFIX
