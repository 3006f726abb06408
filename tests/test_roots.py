"""Several named roots under one top, with rights per root."""

from pathlib import Path
from typing import Any

import pytest
from conftest import Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.app import create_app


@pytest.fixture
def two_roots(tmp_path: Path) -> Any:
    marketing, archive = tmp_path / "marketing", tmp_path / "archive"
    marketing.mkdir()
    archive.mkdir()
    (archive / "2019 report.pdf").write_bytes(b"%PDF-1.4 old")
    settings = make_settings(
        tmp_path,
        roots=[
            {"name": "Marketing share", "url": str(marketing)},
            {"name": "Archive", "url": str(archive)},
        ],
        access=[
            {"users": "intern@example.com", "access": "none", "roots": ["Archive"]},
            {"users": "*@partner.example", "access": "read-only", "roots": ["Marketing share"]},
        ],
    )
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        yield client, marketing, archive


def _wf(client: TestClient, user: str = "ada@example.com") -> Workfront:
    return Workfront(client, Path("/nonexistent"), user=user)


def test_the_top_lists_the_roots_as_folders(two_roots: Any) -> None:
    client, _marketing, _archive = two_roots
    wf = _wf(client)
    top = wf.files("/")
    assert [(item["title"], item["kind"]) for item in top] == [
        ("Archive", "folder"),
        ("Marketing share", "folder"),
    ]
    assert wf.metadata("/")["readOnly"] is True
    archive = next(item for item in top if item["title"] == "Archive")
    assert [item["title"] for item in wf.files(archive["id"])] == ["2019 report.pdf"]


def test_uploads_land_in_their_root(two_roots: Any) -> None:
    client, marketing, archive = two_roots
    wf = _wf(client)
    share = next(item for item in wf.files("/") if item["title"] == "Marketing share")
    item = wf.upload(share["id"], "brief.txt", b"brief")
    assert (marketing / "brief.txt").read_bytes() == b"brief"
    assert not (archive / "brief.txt").exists()
    assert wf.get("download", params={"id": item["id"]}).content == b"brief"
    assert [found["id"] for found in wf.search("brief")] == [item["id"]]


def test_nothing_is_written_into_the_top_and_roots_stay_put(two_roots: Any) -> None:
    client, _marketing, _archive = two_roots
    wf = _wf(client)
    assert wf.call("POST", "createFolder", params={"name": "loose"}).status_code == 403
    assert wf.call("POST", "uploadInit", params={"filename": "loose.txt"}).status_code == 403
    share = next(item for item in wf.files("/") if item["title"] == "Marketing share")
    assert wf.call("PUT", "rename", params={"id": share["id"], "name": "x"}).status_code == 400
    assert wf.call("PUT", "delete", params={"id": share["id"]}).status_code == 400
    assert wf.metadata(share["id"])["title"] == "Marketing share"


def test_a_root_hidden_from_a_user_is_not_listed_searched_or_opened(two_roots: Any) -> None:
    client, _marketing, _archive = two_roots
    ada, intern = _wf(client), _wf(client, "intern@example.com")
    archive = next(item for item in ada.files("/") if item["title"] == "Archive")
    report = ada.files(archive["id"])[0]
    assert [item["title"] for item in intern.files("/")] == ["Marketing share"]
    assert intern.search("report") == []
    assert [item["id"] for item in ada.search("report")] == [report["id"]]
    for endpoint in ("metadata", "download", "thumbnail"):
        assert intern.get(endpoint, params={"id": report["id"]}).status_code == 404
    assert intern.get("files", params={"parentId": archive["id"]}).status_code == 404


def test_rights_per_root(two_roots: Any) -> None:
    client, _marketing, _archive = two_roots
    partner = _wf(client, "bob@partner.example")
    top = {item["title"]: item for item in partner.files("/")}
    assert top["Marketing share"]["readOnly"] is True
    assert top["Archive"]["readOnly"] is False
    assert (
        partner.call(
            "POST", "createFolder", params={"parentId": top["Marketing share"]["id"], "name": "no"}
        ).status_code
        == 403
    )
    assert (
        partner.call(
            "POST", "createFolder", params={"parentId": top["Archive"]["id"], "name": "yes"}
        ).status_code
        == 200
    )


def test_archive_action_stays_within_the_root(two_roots: Any) -> None:
    client, marketing, _archive = two_roots
    wf = _wf(client)
    share = next(item for item in wf.files("/") if item["title"] == "Marketing share")
    item = wf.upload(share["id"], "old.txt", b"old")
    response = wf.get("customAction", params={"name": "archive", "id": item["id"]})
    assert response.json() == {"status": "success"}
    assert (marketing / "Archive" / "old.txt").read_bytes() == b"old"


def test_root_names_must_differ(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        roots=[
            {"name": "A", "url": str(tmp_path / "a")},
            {"name": "a", "url": str(tmp_path / "b")},
        ],
    )
    with pytest.raises(ValueError, match="same name"):
        create_app(settings)


def test_files_dropped_into_a_local_root_are_found_by_search_through_events(
    tmp_path: Path,
) -> None:
    import time

    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    settings = make_settings(
        tmp_path,
        roots=[{"name": "One", "url": str(first)}, {"name": "Two", "url": str(second)}],
        watch=True,
    )
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = _wf(client)
        wf.files("/")
        time.sleep(0.5)  # the watchers start
        (second / "dropped-zqx.txt").write_bytes(b"x")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not wf.search("dropped-zqx"):
            time.sleep(0.2)
        assert [item["title"] for item in wf.search("dropped-zqx")] == ["dropped-zqx.txt"]
