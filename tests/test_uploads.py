"""PUT /upload: limits, multipart bodies, replacement, and races over one name."""

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import Workfront, make_settings
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.names import INTERNAL_PREFIX

LIMIT = 1000


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Workfront]:
    """An app that takes uploads of at most ``LIMIT`` bytes."""
    app_settings = make_settings(tmp_path, max_upload_bytes=LIMIT)
    with TestClient(create_app(app_settings), base_url="http://docrelay.test") as client:
        yield Workfront(client, Path(app_settings.root))


def temporaries(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(INTERNAL_PREFIX + "-")]


def assert_fail(response: Any, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"result", "error"}
    assert body["result"] == "fail"
    assert isinstance(body["error"], str) and body["error"]


def content_of(wf: Workfront, item_id: str) -> bytes:
    response = wf.get("download", params={"id": item_id})
    assert response.status_code == 200, response.text
    return bytes(response.content)


def chunks(data: bytes, size: int = 100) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def multipart(*parts: tuple[str, str | None, bytes], boundary: str = "b0undary") -> bytes:
    body = b""
    for field, filename, data in parts:
        disposition = f'form-data; name="{field}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


MULTIPART = {"content-type": "multipart/form-data; boundary=b0undary"}


# --- the size limit -----------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_over_the_limit_is_413_and_keeps_the_old_content(small: Workfront, chunked: bool) -> None:
    folder = small.folder("/", "folder")
    item = small.upload(folder["id"], "x.txt", b"old content")
    big = b"n" * (LIMIT + 1)
    body: Any = chunks(big) if chunked else big
    response = small.call("PUT", "upload", params={"id": item["id"]}, content=body)
    assert_fail(response, 413)
    assert content_of(small, item["id"]) == b"old content"
    assert (small.root / "folder" / "x.txt").read_bytes() == b"old content"
    assert small.metadata(item["id"])["size"] == len(b"old content")
    assert temporaries(small.root) == []
    assert sorted(os.listdir(small.root / "folder")) == ["x.txt"]


def test_over_the_limit_leaves_a_reservation_empty(small: Workfront) -> None:
    item = small.ok("POST", "uploadInit", params={"parentId": "/", "filename": "new.txt"})
    response = small.call("PUT", "upload", params={"id": item["id"]}, content=chunks(b"n" * 5000))
    assert_fail(response, 413)
    assert small.get("download", params={"id": item["id"]}).status_code == 404
    assert os.listdir(small.root) == []
    assert small.files() == []


def test_exactly_the_limit_is_accepted(small: Workfront) -> None:
    data = bytes(range(256)) * 3 + b"x" * (LIMIT - 768)
    item = small.upload("/", "full.bin", data)
    assert content_of(small, item["id"]) == data
    assert small.metadata(item["id"])["size"] == LIMIT


def test_a_multipart_body_over_the_limit_is_413(small: Workfront) -> None:
    item = small.upload("/", "x.txt", b"old")
    body = multipart(("file", "x.txt", b"m" * (LIMIT + 1)))
    response = small.call(
        "PUT", "upload", params={"id": item["id"]}, content=body, headers=MULTIPART
    )
    assert_fail(response, 413)
    assert content_of(small, item["id"]) == b"old"
    assert temporaries(small.root) == []


# --- multipart bodies ---------------------------------------------------------------------


def test_a_multipart_body_with_one_file_part_is_unwrapped(wf: Workfront) -> None:
    item = wf.upload("/", "x.txt", b"old")
    body = multipart(("note", None, b"not the file"), ("file", "other-name.txt", b"new\r\nbytes"))
    response = wf.call("PUT", "upload", params={"id": item["id"]}, content=body, headers=MULTIPART)
    assert response.status_code == 200, response.text
    assert response.json() == {"result": "success"}
    assert content_of(wf, item["id"]) == b"new\r\nbytes"
    assert wf.metadata(item["id"])["title"] == "x.txt"


@pytest.mark.parametrize(
    "parts",
    [
        (("a", "a.txt", b"first"), ("b", "b.txt", b"second")),
        (("file", "a.txt", b"first"), ("file", "a.txt", b"first")),
        (("field", None, b"no file here"),),
        (),
    ],
    ids=["two-files", "the-same-file-twice", "no-file-part", "no-part"],
)
def test_a_multipart_body_without_exactly_one_file_part_is_400(
    wf: Workfront, parts: tuple[tuple[str, str | None, bytes], ...]
) -> None:
    item = wf.upload("/", "x.txt", b"old")
    body = multipart(*parts)
    response = wf.call("PUT", "upload", params={"id": item["id"]}, content=body, headers=MULTIPART)
    assert_fail(response, 400)
    assert content_of(wf, item["id"]) == b"old"
    assert (wf.root / "x.txt").read_bytes() == b"old"
    assert temporaries(wf.root) == []


def test_a_form_labelled_body_is_content(wf: Workfront) -> None:
    item = wf.upload("/", "x.txt", b"old")
    body = b"id=somethingelse&name=evil.txt"
    form = {"content-type": "application/x-www-form-urlencoded"}
    response = wf.call("PUT", "upload", params={"id": item["id"]}, content=body, headers=form)
    assert response.status_code == 200, response.text
    assert content_of(wf, item["id"]) == body


# --- replacement --------------------------------------------------------------------------


def test_a_repeated_put_replaces_the_content(wf: Workfront) -> None:
    folder = wf.folder("/", "f")
    item = wf.upload(folder["id"], "x.txt", b"first version")
    tags = {wf.get("download", params={"id": item["id"]}).headers["etag"]}
    for content in (b"second", b"third and longest version", b""):
        response = wf.call("PUT", "upload", params={"id": item["id"]}, content=content)
        assert response.status_code == 200, response.text
        assert content_of(wf, item["id"]) == content
        assert wf.metadata(item["id"])["size"] == len(content)
        tags.add(wf.get("download", params={"id": item["id"]}).headers["etag"])
    assert len(tags) == 4
    assert [entry["id"] for entry in wf.files(folder["id"])] == [item["id"]]
    assert os.listdir(wf.root / "f") == ["x.txt"]
    assert (wf.root / "f" / "x.txt").read_bytes() == b""


# --- races over one name ------------------------------------------------------------------

RACERS = 12


def expected_names(count: int) -> set[str]:
    return {"x.txt", *(f"x ({number}).txt" for number in range(1, count))}


def test_concurrent_reservations_of_one_name_get_distinct_names(wf: Workfront) -> None:
    folder = wf.folder("/", "race")
    barrier = threading.Barrier(RACERS)

    def reserve(_index: int) -> dict[str, Any]:
        barrier.wait()
        return wf.ok(  # type: ignore[no-any-return]
            "POST", "uploadInit", params={"parentId": folder["id"], "filename": "x.txt"}
        )

    with ThreadPoolExecutor(RACERS) as pool:
        reserved = list(pool.map(reserve, range(RACERS)))
    ids = [item["id"] for item in reserved]
    titles = [item["title"] for item in reserved]
    assert len(set(ids)) == RACERS
    assert len(set(titles)) == RACERS
    assert set(titles) == expected_names(RACERS)
    assert wf.files(folder["id"]) == []  # reserved, not yet listed

    def upload(item: dict[str, Any]) -> int:
        barrier.wait()
        content = f"bytes of {item['title']}".encode()
        return int(wf.call("PUT", "upload", params={"id": item["id"]}, content=content).status_code)

    with ThreadPoolExecutor(RACERS) as pool:
        assert list(pool.map(upload, reserved)) == [200] * RACERS
    on_disk = sorted(os.listdir(wf.root / "race"))
    assert on_disk == sorted(expected_names(RACERS))
    for item in reserved:
        path = wf.root / "race" / item["title"]
        assert path.read_bytes() == f"bytes of {item['title']}".encode()
        assert wf.metadata(item["id"])["title"] == item["title"]
    listed = {entry["id"]: entry["title"] for entry in wf.files(folder["id"])}
    assert listed == {item["id"]: item["title"] for item in reserved}


def test_concurrent_uploads_to_one_id_leave_one_whole_version(wf: Workfront) -> None:
    item = wf.upload("/", "x.bin", b"start")
    versions = [bytes([number]) * 200_000 for number in range(8)]
    barrier = threading.Barrier(len(versions))

    def upload(content: bytes) -> int:
        barrier.wait()
        return int(wf.call("PUT", "upload", params={"id": item["id"]}, content=content).status_code)

    with ThreadPoolExecutor(len(versions)) as pool:
        assert list(pool.map(upload, versions)) == [200] * len(versions)
    final = content_of(wf, item["id"])
    assert final in versions
    assert os.listdir(wf.root) == ["x.bin"]
    assert temporaries(wf.root) == []


@pytest.mark.parametrize("taken", [1, 3])
def test_a_name_taken_on_disk_after_uploadinit_moves_the_upload_on(
    wf: Workfront, taken: int
) -> None:
    item = wf.ok("POST", "uploadInit", params={"parentId": "/", "filename": "report.pdf"})
    assert item["title"] == "report.pdf"
    squatters = ["report.pdf", *(f"report ({number}).pdf" for number in range(1, taken))]
    for name in squatters:
        (wf.root / name).write_bytes(f"disk {name}".encode())
    response = wf.call("PUT", "upload", params={"id": item["id"]}, content=b"from the api")
    assert response.status_code == 200, response.text
    expected = f"report ({taken}).pdf"
    assert wf.metadata(item["id"])["title"] == expected
    assert (wf.root / expected).read_bytes() == b"from the api"
    assert content_of(wf, item["id"]) == b"from the api"
    for name in squatters:
        assert (wf.root / name).read_bytes() == f"disk {name}".encode()
    listed = {entry["title"]: entry["id"] for entry in wf.files()}
    assert set(listed) == {*squatters, expected}
    assert listed[expected] == item["id"]
    assert temporaries(wf.root) == []


def test_an_upload_into_a_folder_deleted_meanwhile_leaves_nothing(wf: Workfront) -> None:
    folder = wf.folder("/", "doomed")
    item = wf.ok("POST", "uploadInit", params={"parentId": folder["id"], "filename": "x.txt"})
    assert wf.call("PUT", "delete", params={"id": folder["id"]}).status_code == 200
    response = wf.call("PUT", "upload", params={"id": item["id"]}, content=b"orphan")
    assert_fail(response, 404)
    assert temporaries(wf.root) == []
    assert [path.name for path in wf.root.iterdir() if not path.name.startswith(".~")] == []


def test_a_second_instance_starting_spares_uploads_in_flight(wf: Workfront, settings: Any) -> None:
    item = wf.upload("/", "x.bin", b"old")
    first_block_sent, carry_on = threading.Event(), threading.Event()

    def body() -> Iterator[bytes]:
        yield b"a" * 2_000_000
        first_block_sent.set()
        carry_on.wait(10)
        yield b"b" * 10

    answers: list[Any] = []
    uploading = threading.Thread(
        target=lambda: answers.append(
            wf.call("PUT", "upload", params={"id": item["id"]}, content=body())
        )
    )
    uploading.start()
    assert first_block_sent.wait(10)
    try:
        with TestClient(create_app(settings), base_url="http://docrelay.test"):
            pass  # another instance of the same catalog starts (and stops)
    finally:
        carry_on.set()
        uploading.join(20)
    assert answers[0].status_code == 200, answers[0].text
    assert content_of(wf, item["id"]) == b"a" * 2_000_000 + b"b" * 10


def test_which_temporaries_are_abandoned() -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    from docrelay.catalog.catalog import THIS_PROCESS, _abandoned

    now = time.time()
    host = socket.gethostname()
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert _abandoned(f"{host} {finished.stdout.strip()}", now)  # its writer is gone
    assert not _abandoned(THIS_PROCESS, now)
    assert not _abandoned(f"{host} {os.getppid()}", now)  # alive
    assert not _abandoned(f"another-host {os.getpid()}", now)  # cannot tell: kept a day
    assert _abandoned(f"another-host {os.getpid()}", now - 2 * 24 * 3600)
    assert _abandoned(None, now)
