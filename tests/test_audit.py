"""The audit log: one JSON line per change or content read, rotated, never a secret."""

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import API_KEY, USER, Workfront, make_settings
from PIL import Image
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.config import Settings

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = ["time", "user", "action", "id", "path", "status", "result", "bytes", "client"]


def lines(settings: Settings) -> list[dict[str, Any]]:
    path = settings.data_dir / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def actions(settings: Settings) -> list[str]:
    return [line["action"] for line in lines(settings)]


def open_app(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url="http://docrelay.test")


def test_every_audited_action_writes_one_line(wf: Workfront, settings: Settings) -> None:
    folder = wf.folder("/", "Reports")
    reserved = wf.ok("POST", "uploadInit", params={"parentId": folder["id"], "filename": "q1.txt"})
    wf.call("PUT", "upload", params={"id": reserved["id"]}, content=b"x" * 1000)
    assert wf.get("download", params={"id": reserved["id"]}).content == b"x" * 1000
    item = wf.metadata(reserved["id"])
    assert wf.client.get(item["downloadLink"]).content == b"x" * 1000
    wf.ok("PUT", "rename", params={"id": reserved["id"], "name": "q1-final.txt"})
    extra = wf.upload("/", "extra.txt", b"12345")
    wf.ok("GET", "customAction", params={"name": "archive", "id": extra["id"]})
    wf.ok("PUT", "delete", params={"id": reserved["id"]})
    found = lines(settings)
    assert [line["action"] for line in found] == [
        "createFolder",
        "uploadInit",
        "upload",
        "download",
        "download_link",
        "rename",
        "uploadInit",
        "upload",
        "customAction",
        "delete",
    ]
    for line in found:
        assert list(line)[: len(FIELDS)] == FIELDS
        assert TIME.match(line["time"]), line
        assert (line["status"], line["result"]) == (200, "ok")
        assert line["client"] == "testclient"
    by_action = {line["action"]: line for line in found}
    assert by_action["createFolder"]["id"] == folder["id"]
    assert by_action["createFolder"]["path"] == "Reports"
    assert by_action["uploadInit"]["path"] == "extra.txt"  # the last one
    assert [line["bytes"] for line in found if line["action"] == "upload"] == [1000, 5]
    assert by_action["download"] | {"time": None} == {
        "time": None,
        "user": USER,
        "action": "download",
        "id": reserved["id"],
        "path": "Reports/q1.txt",
        "status": 200,
        "result": "ok",
        "bytes": 1000,
        "client": "testclient",
    }
    assert by_action["download_link"]["user"] is None  # a signed link names nobody
    assert by_action["download_link"]["bytes"] == 1000
    assert by_action["rename"]["path"] == "Reports/q1-final.txt"
    assert by_action["rename"]["old_name"] == "q1.txt"
    assert by_action["customAction"]["custom_action"] == "archive"
    assert by_action["customAction"]["id"] == extra["id"]
    assert by_action["delete"]["path"] == "Reports/q1-final.txt"
    assert by_action["delete"]["bytes"] == 0


def test_listings_metadata_search_and_head_are_not_audited(
    wf: Workfront, settings: Settings
) -> None:
    item = wf.upload("/", "a.txt", b"abc")
    before = len(lines(settings))
    wf.files("/")
    wf.metadata(item["id"])
    wf.search("a")
    wf.get("serviceInfo")
    wf.call("HEAD", "download", params={"id": item["id"]})
    wf.client.head(item["downloadLink"])
    wf.client.get(item["viewLink"])
    wf.client.get("/healthz")
    assert len(lines(settings)) == before


def test_a_failed_request_is_audited_as_an_error(wf: Workfront, settings: Settings) -> None:
    wf.get("download", params={"id": "no-such-id"})
    wf.call("PUT", "rename", params={"id": "no-such-id", "name": "x"}, auth=False)
    item = wf.upload("/", "a.txt", b"abc")
    wf.client.get(f"/download/{item['id']}?sig=forged")
    failed = [line for line in lines(settings) if line["result"] == "error"]
    assert [(line["action"], line["status"], line["id"], line["path"]) for line in failed] == [
        ("download", 404, "no-such-id", None),
        ("rename", 403, "no-such-id", None),
        ("download_link", 404, item["id"], None),
    ]
    assert [line["bytes"] for line in failed] == [0, 0, 0]
    assert failed[1]["user"] is None


def test_a_taken_name_shows_the_name_given(wf: Workfront, settings: Settings) -> None:
    wf.upload("/", "same.txt", b"1")
    wf.upload("/", "same.txt", b"2")
    paths = [line["path"] for line in lines(settings) if line["action"] == "upload"]
    assert paths == ["same.txt", "same (1).txt"]


def test_nothing_secret_reaches_the_audit_log(wf: Workfront, settings: Settings) -> None:
    item = wf.upload("/", "a.txt", b"abc")
    link = wf.metadata(item["id"])["downloadLink"]
    signature = link.split("sig=", 1)[1]
    wf.client.get(link)
    wf.client.get(link.replace(signature, signature[::-1]))
    wf.get("download", params={"id": item["id"], "apiKey": API_KEY})
    wf.client.cookies.set("session", "cookie-value-0123456789")
    wf.client.get(link)
    text = (settings.data_dir / "audit.log").read_text()
    assert len(text.splitlines()) == 6
    for secret in (API_KEY, signature, signature[::-1], "sig=", "cookie-value", "apiKey"):
        assert secret not in text


def test_several_roots_name_the_root_apart(tmp_path: Path) -> None:
    marketing, archive = tmp_path / "marketing", tmp_path / "archive"
    marketing.mkdir()
    archive.mkdir()
    settings = make_settings(
        tmp_path,
        roots=[
            {"name": "Marketing", "url": str(marketing)},
            {"name": "Archive", "url": str(archive)},
        ],
    )
    with open_app(settings) as client:
        wf = Workfront(client, marketing)
        share = next(item for item in wf.files("/") if item["title"] == "Marketing")
        folder = wf.folder(share["id"], "Briefs")
        item = wf.upload(folder["id"], "brief.txt", b"brief")
        wf.get("download", params={"id": item["id"]})
    download = lines(settings)[-1]
    assert download["action"] == "download"
    assert (download["root"], download["path"]) == ("Marketing", "Briefs/brief.txt")
    assert list(download)[:6] == ["time", "user", "action", "id", "root", "path"]


def test_the_file_rotates_at_its_size_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, audit_log_max_bytes=1000, audit_log_backups=2)
    with open_app(settings) as client:
        wf = Workfront(client, Path(settings.root))
        item = wf.upload("/", "a.txt", b"abc")
        for _ in range(30):
            wf.get("download", params={"id": item["id"]})
    folder = settings.data_dir
    files = sorted(path.name for path in folder.glob("audit.log*"))
    assert files == ["audit.log", "audit.log.1", "audit.log.2"]
    for name in files:
        path = folder / name
        assert path.stat().st_size <= 1000
        for line in path.read_text().splitlines():
            assert json.loads(line)["action"] in ("uploadInit", "upload", "download")


def test_standard_output_and_never_the_normal_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, audit_log="-")
    caplog.set_level(logging.DEBUG)
    with open_app(settings) as client:
        wf = Workfront(client, Path(settings.root))
        item = wf.upload("/", "a.txt", b"abc")
        wf.get("download", params={"id": item["id"]})
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["action"] for line in printed] == ["uploadInit", "upload", "download"]
    assert not (settings.data_dir / "audit.log").exists()
    assert not [record for record in caplog.records if record.name == "docrelay.audit"]
    assert not logging.getLogger("docrelay.audit").handlers


@pytest.mark.parametrize("off", ["none", "", "None"])
def test_the_audit_log_can_be_turned_off(tmp_path: Path, off: str) -> None:
    settings = make_settings(tmp_path, audit_log=off)
    with open_app(settings) as client:
        wf = Workfront(client, Path(settings.root))
        wf.upload("/", "a.txt", b"abc")
    assert not list(tmp_path.rglob("audit.log*"))


def test_a_path_outside_the_data_folder(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "docrelay-audit.jsonl"
    settings = make_settings(tmp_path, audit_log=str(target))
    with open_app(settings) as client:
        Workfront(client, Path(settings.root)).folder("/", "F")
    assert json.loads(target.read_text())["action"] == "createFolder"
    assert not (settings.data_dir / "audit.log").exists()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(params=[False, True])
def thumbnails_audited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    settings = make_settings(tmp_path, audit_thumbnails=request.param)
    with open_app(settings) as client:
        yield request.param, settings, Workfront(client, Path(settings.root))


def test_thumbnails_only_with_audit_thumbnails(thumbnails_audited: Any) -> None:
    audited, settings, wf = thumbnails_audited
    item = wf.upload("/", "p.png", _png())
    assert wf.get("thumbnail", params={"id": item["id"], "size": "32"}).status_code == 200
    links = wf.client.app.state.services.links
    assert wf.client.get(links.thumbnail(item["id"], 32)).status_code == 200
    found = [line for line in lines(settings) if "thumbnail" in line["action"]]
    if not audited:
        assert found == []
        return
    assert [(line["action"], line["path"]) for line in found] == [
        ("thumbnail", "p.png"),
        ("thumbnail_link", "p.png"),
    ]
    assert all(line["bytes"] > 0 for line in found)
