"""Endpoints in-process: shapes of SPEC.md §5 on every endpoint, parameters, rights."""

from pathlib import Path
from typing import Any

import pytest
from conftest import API_KEY, Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.api.router import ENDPOINTS
from docrelay.app import create_app
from docrelay.errors import NotFound

SHAPES = {
    "upload": "result",
    "rename": "status",
    "delete": "status",
    "customAction": "status",
    "customName": "status",
}


def _assert_shape(endpoint: str, response: Any, status: int) -> None:
    assert response.status_code == status, (endpoint, response.status_code, response.text)
    body = response.json()
    if endpoint == "upload":
        assert body["result"] == "fail"
    elif endpoint in SHAPES:
        assert body["status"] == "failure"
    else:
        assert body["status"] == "error"
    assert isinstance(body["error"], str) and body["error"].strip()


@pytest.mark.parametrize("endpoint", sorted(set(ENDPOINTS) - {"serviceInfo"}))
def test_every_endpoint_refuses_missing_credentials_in_its_shape(
    wf: Workfront, endpoint: str
) -> None:
    method = sorted(ENDPOINTS[endpoint].methods - {"HEAD"})[0]
    response = wf.call(method, endpoint, auth=False, params={"id": "x", "parentId": "/"})
    _assert_shape(endpoint, response, 403)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_answers_a_wrong_method_with_405_in_its_shape(
    wf: Workfront, endpoint: str
) -> None:
    _assert_shape(endpoint, wf.call("PATCH", endpoint), 405)


@pytest.mark.parametrize(
    ("endpoint", "method", "params"),
    [
        ("metadata", "GET", {"id": "nope"}),
        ("files", "GET", {"parentId": "nope"}),
        ("download", "GET", {"id": "nope"}),
        ("thumbnail", "GET", {"id": "nope"}),
        ("upload", "PUT", {"id": "nope"}),
        ("rename", "PUT", {"id": "nope", "name": "a"}),
        ("delete", "PUT", {"id": "nope"}),
        ("uploadInit", "POST", {"parentId": "nope", "filename": "a"}),
        ("createFolder", "POST", {"parentId": "nope", "name": "a"}),
        ("search", "GET", {"query": "a", "parentId": "nope"}),
        ("customAction", "GET", {"name": "archive", "documentId": "nope"}),
    ],
)
def test_unknown_ids_are_404_in_each_shape(
    wf: Workfront, endpoint: str, method: str, params: dict[str, str]
) -> None:
    _assert_shape(endpoint, wf.call(method, endpoint, params=params), 404)


def test_unknown_endpoint_and_bare_api(wf: Workfront) -> None:
    _assert_shape("nothing", wf.get("nothing"), 404)
    _assert_shape("", wf.client.get("/api", headers=wf.headers), 404)


@pytest.mark.parametrize("value", ["-1", "0", "1001", "1.5", "x", "", "１"])
def test_bad_max_is_400(wf: Workfront, value: str) -> None:
    _assert_shape("files", wf.get("files", params={"max": value}), 400)


@pytest.mark.parametrize("value", ["-1", str(2**31), "2.0", "abc"])
def test_bad_offset_is_400(wf: Workfront, value: str) -> None:
    _assert_shape("search", wf.get("search", params={"query": "a", "offset": value}), 400)


def test_offset_at_its_limit_is_an_empty_window(wf: Workfront) -> None:
    wf.upload("/", "a.txt", b"x")
    assert wf.files("/", offset=str(2**31 - 1)) == []


def test_invalid_utf8_in_a_parameter_is_400(wf: Workfront) -> None:
    response = wf.client.post("/api/createFolder?name=%FF%FE", headers=wf.headers)
    _assert_shape("createFolder", response, 400)


def test_repeated_parameters_take_the_first(wf: Workfront) -> None:
    response = wf.client.post("/api/createFolder?name=one&name=two", headers=wf.headers)
    assert response.json()["title"] == "one"


def test_root_listing_shows_the_display_name_and_folders_first(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, display_name="Company share")
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        assert wf.metadata("/")["title"] == "Company share"
        wf.upload("/", "a.txt", b"1")
        wf.folder("/", "z")
        assert [item["title"] for item in wf.files("/")] == ["z", "a.txt"]


def test_read_only_users_can_read_but_not_write(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, access=[{"users": "*@contractor.example", "access": "read-only"}]
    )
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        owner = Workfront(client, Path(settings.root))
        guest = Workfront(client, Path(settings.root), user="Bob@Contractor.example")
        item = owner.upload("/", "plan.txt", b"plan")
        assert owner.metadata(item["id"])["readOnly"] is False
        assert guest.metadata(item["id"])["readOnly"] is True
        assert guest.get("download", params={"id": item["id"]}).content == b"plan"
        _assert_shape("createFolder", guest.call("POST", "createFolder", params={"name": "x"}), 403)
        _assert_shape("uploadInit", guest.call("POST", "uploadInit", params={"filename": "x"}), 403)
        _assert_shape(
            "upload", guest.call("PUT", "upload", params={"id": item["id"]}, content=b"evil"), 403
        )
        _assert_shape(
            "rename", guest.call("PUT", "rename", params={"id": item["id"], "name": "y"}), 403
        )
        _assert_shape("delete", guest.call("PUT", "delete", params={"id": item["id"]}), 403)
        assert owner.get("download", params={"id": item["id"]}).content == b"plan"


def test_conflict_policy_fail_answers_409(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, on_conflict="fail")
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        wf.upload("/", "a.txt", b"1")
        wf.folder("/", "F")
        _assert_shape(
            "uploadInit", wf.call("POST", "uploadInit", params={"filename": "A.TXT"}), 409
        )
        _assert_shape("createFolder", wf.call("POST", "createFolder", params={"name": "f"}), 409)


def test_ids_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        folder = wf.folder("/", "keep")
        item = wf.upload(folder["id"], "kept.txt", b"kept")
        before = wf.metadata(item["id"])
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        assert wf.metadata(item["id"]) == before
        assert [entry["id"] for entry in wf.files(folder["id"])] == [item["id"]]


def test_upload_init_keeps_the_workfront_ids(wf: Workfront) -> None:
    item = wf.ok(
        "POST",
        "uploadInit",
        params={"filename": "wf.txt", "documentId": "DOC1", "documentVersionId": "VER1"},
    )
    wf.call("PUT", "upload", params={"id": item["id"]}, content=b"x")
    found = wf.client.app.state.services.catalog.by_workfront_document("DOC1")
    assert (found.id, found.wf_version_id) == (item["id"], "VER1")


def test_archive_moves_the_document_and_keeps_its_id(wf: Workfront) -> None:
    item = wf.ok("POST", "uploadInit", params={"filename": "done.txt", "documentId": "WF-9"})
    wf.call("PUT", "upload", params={"id": item["id"]}, content=b"final")
    response = wf.get("customAction", params={"name": "archive", "documentId": "WF-9"})
    assert response.json() == {"status": "success"}
    archive = next(entry for entry in wf.files("/") if entry["title"] == "Archive")
    assert [entry["id"] for entry in wf.files(archive["id"])] == [item["id"]]
    assert (wf.root / "Archive" / "done.txt").read_bytes() == b"final"
    assert not (wf.root / "done.txt").exists()


def test_custom_action_by_docrelay_id_and_action_parameter(wf: Workfront) -> None:
    item = wf.upload("/", "by-id.txt", b"x")
    response = wf.get("customName", params={"action": "archive", "id": item["id"]})
    assert response.json() == {"status": "success"}
    assert (wf.root / "Archive" / "by-id.txt").exists()


def failing_action(context: object) -> None:
    raise RuntimeError("boom")


def test_a_failing_action_is_a_500_failure(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        custom_actions=[
            {"name": "explode", "display_name": "Explode", "handler": "test_api:failing_action"}
        ],
    )
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        item = wf.upload("/", "a.txt", b"x")
        info = wf.get("serviceInfo", auth=False).json()
        assert info["customActions"] == [{"name": "explode", "displayName": "Explode"}]
        response = wf.get("customAction", params={"name": "explode", "id": item["id"]})
        _assert_shape("customAction", response, 500)


def test_a_handler_that_cannot_be_loaded_stops_the_start(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        custom_actions=[{"name": "x", "display_name": "X", "handler": "no.such.module:thing"}],
    )
    with pytest.raises(ValueError, match="cannot be loaded"):
        create_app(settings)


def test_a_wrong_key_is_403(wf: Workfront) -> None:
    for key in ("", "wrong", API_KEY + "x", "drk_000000000000_nothing"):
        response = wf.get("files", auth=False, headers={"apiKey": key, "username": "a"})
        _assert_shape("files", response, 403)


def test_made_keys_work_until_revoked(wf: Workfront) -> None:
    keys = wf.client.app.state.services.keys
    info, key = keys.create("second")
    headers = {"apiKey": key, "username": "ada@example.com"}
    assert wf.get("files", auth=False, headers=headers).status_code == 200
    assert wf.get("files", auth=False, headers=headers).status_code == 200  # remembered
    keys.revoke(info.id)
    _assert_shape("files", wf.get("files", auth=False, headers=headers), 403)


def test_keys_are_kept_only_as_hashes(wf: Workfront) -> None:
    keys = wf.client.app.state.services.keys
    _info, key = keys.create("secret")
    url = wf.client.app.state.services.settings.catalog_url()
    database = Path(url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):  # the WAL too
        assert key.encode() not in path.read_bytes()


def test_a_form_body_may_carry_raw_utf8_and_percent_escapes(wf: Workfront) -> None:
    body = b"name=caf%C3%A9+" + "crème".encode()
    response = wf.client.post(
        "/api/createFolder",
        content=body,
        headers={**wf.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["title"] == "café crème"


def test_archive_uses_a_folder_whose_name_differs_only_in_case(wf: Workfront) -> None:
    existing = wf.folder("/", "archive")
    item = wf.upload("/", "old.txt", b"old")
    response = wf.get("customAction", params={"name": "archive", "id": item["id"]})
    assert response.json() == {"status": "success"}
    assert [entry["id"] for entry in wf.files(existing["id"])] == [item["id"]]


def test_a_listing_racing_a_rename_above_it_hides_nothing(wf: Workfront) -> None:
    catalog = wf.client.app.state.services.catalog
    top = wf.folder("/", "S")
    inner = wf.folder(top["id"], "T")
    leaf = wf.upload(inner["id"], "f.txt", b"f")
    folder, old_path = catalog.fresh(inner["id"])
    assert wf.call("PUT", "rename", params={"id": top["id"], "name": "S2"}).status_code == 200
    with pytest.raises(NotFound):
        catalog.reconcile(folder, old_path)  # a crawl that read the path before the rename
    assert wf.metadata(inner["id"])["title"] == "T"
    assert wf.metadata(leaf["id"])["title"] == "f.txt"
    assert [entry["id"] for entry in wf.files(inner["id"])] == [leaf["id"]]
