"""The API over fsspec stores, in-process: what Workfront does, and a store that goes away."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.store import open_store
from docrelay.store.fsspec import FsspecStore
from store.conftest import BUCKET, s3_options
from store.services import Server, closed_port


@pytest.fixture(params=["memory", "s3"])
def wf(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workfront]:
    if request.param == "s3":
        moto: Server = request.getfixturevalue("moto")
        root, options = f"s3://{BUCKET}/api-{uuid.uuid4().hex[:8]}", s3_options(moto.port)
    else:
        root, options = f"memory://api-{uuid.uuid4().hex}", {}
    settings = make_settings(tmp_path, root=root, root_options=options)
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        yield Workfront(client, tmp_path / "unused")


def test_workfront_round_trip(wf: Workfront) -> None:
    folder = wf.folder("/", "Projects")
    assert wf.files(folder["id"]) == []
    item = wf.upload(folder["id"], "plan.txt", b"0123456789")
    taken = wf.upload(folder["id"], "plan.txt", b"second")
    assert wf.metadata(taken["id"])["title"] == "plan (1).txt"
    listed = wf.files(folder["id"])
    assert [entry["title"] for entry in listed] == ["plan (1).txt", "plan.txt"]
    ranged = wf.get("download", params={"id": item["id"]}, headers={"Range": "bytes=2-4"})
    assert (ranged.status_code, ranged.content) == (206, b"234")
    etag = ranged.headers["etag"]
    assert wf.call("PUT", "upload", params={"id": item["id"]}, content=b"new!").status_code == 200
    again = wf.get("download", params={"id": item["id"]})
    assert again.content == b"new!" and again.headers["etag"] != etag
    wf.ok("PUT", "rename", params={"id": item["id"], "name": "Plan.txt"})
    assert wf.metadata(item["id"])["title"] == "Plan.txt"
    wf.ok("PUT", "delete", params={"id": folder["id"]})
    assert [entry["title"] for entry in wf.files("/")] == []
    assert wf.get("metadata", params={"id": item["id"]}).status_code == 404


def test_an_unreachable_store_answers_503(wf: Workfront) -> None:
    store = wf.client.app.state.services.store  # type: ignore[attr-defined]
    assert isinstance(store, FsspecStore)
    if store.fs.protocol == "memory" or "memory" in store.fs.protocol:
        pytest.skip("a memory store is always there")
    quick = {"config_kwargs": {"retries": {"max_attempts": 1}}}
    unreachable = open_store(f"s3://{BUCKET}/x", s3_options(closed_port(), **quick))
    assert isinstance(unreachable, FsspecStore)
    store._connect = unreachable._connect
    store.close()
    response = wf.get("files", params={"parentId": "/"})
    assert response.status_code == 503
    assert response.json() == {"status": "error", "error": "The store cannot be reached."}
