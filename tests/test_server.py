"""The real server: killed and cut-off uploads, restarts, and the first start's API key."""

import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, USER, Server

from docrelay.names import INTERNAL_PREFIX

pytestmark = pytest.mark.server

HEADERS = {"apiKey": API_KEY, "username": USER}
Start = Callable[..., Server]


class Api:
    """Workfront's calls over HTTP to a running server."""

    def __init__(self, server: Server, headers: dict[str, str] = HEADERS) -> None:
        self.server = server
        self.client = httpx.Client(base_url=f"{server.url}/api", headers=headers, timeout=10)

    def ok(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/{endpoint}", **kwargs)
        assert response.status_code == 200, (endpoint, response.status_code, response.text)
        return response.json()

    def upload(self, parent_id: str, filename: str, content: bytes) -> dict[str, Any]:
        item = self.ok("POST", "uploadInit", params={"parentId": parent_id, "filename": filename})
        self.ok("PUT", "upload", params={"id": item["id"]}, content=content)
        return item  # type: ignore[no-any-return]

    def download(self, item_id: str) -> bytes:
        response = self.client.get("/download", params={"id": item_id})
        assert response.status_code == 200, response.text
        return response.content

    def close(self) -> None:
        self.client.close()


def temporaries(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(INTERNAL_PREFIX + "-")]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_partial_upload(server: Server, item_id: str, declared: int, sent: int) -> socket.socket:
    """A PUT /upload that declares ``declared`` bytes and sends only ``sent`` of them."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    head = (
        f"PUT /api/upload?id={item_id} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"apiKey: {API_KEY}\r\nusername: {USER}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    connection.sendall(head.encode())
    block = b"N" * 65536
    remaining = sent
    while remaining > 0:
        connection.sendall(block[: min(len(block), remaining)])
        remaining -= min(len(block), remaining)
    return connection


def written_temporary(root: Path) -> bool:
    return any(path.stat().st_size > 0 for path in temporaries(root))


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    root, data = tmp_path / "root", tmp_path / "data"
    root.mkdir()
    return root, data


def serve(start: Start, places: tuple[Path, Path], **env: str) -> Server:
    root, data = places
    return start(root, data, DOCRELAY_API_KEY=API_KEY, DOCRELAY_CRAWL_INTERVAL="1", **env)


def test_a_killed_upload_leaves_the_old_content_after_a_restart(
    start_server: Start, places: tuple[Path, Path]
) -> None:
    root = places[0]
    first = serve(start_server, places)
    api = Api(first)
    folder = api.ok("POST", "createFolder", params={"parentId": "/", "name": "reports"})
    item = api.upload(folder["id"], "q3.bin", b"the old content")
    before = api.ok("GET", "files", params={"parentId": folder["id"]})
    reserved = api.ok(
        "POST", "uploadInit", params={"parentId": folder["id"], "filename": "new.bin"}
    )
    api.close()
    connections = [
        start_partial_upload(first, upload_id, declared=8 << 20, sent=3 << 20)
        for upload_id in (item["id"], reserved["id"])
    ]
    try:
        wait_for(
            lambda: sum(path.stat().st_size > 0 for path in temporaries(root)) == 2,
            10,
            "both uploads to reach the disk",
        )
        first.kill()
    finally:
        for connection in connections:
            connection.close()
    assert len(temporaries(root)) == 2, "the kill should have left temporaries behind"

    second = serve(start_server, places)
    api = Api(second)
    assert temporaries(root) == []
    assert api.download(item["id"]) == b"the old content"
    assert (root / "reports" / "q3.bin").read_bytes() == b"the old content"
    after = api.ok("GET", "files", params={"parentId": folder["id"]})
    assert [entry["id"] for entry in after] == [item["id"]]
    assert {key: after[0][key] for key in ("id", "title", "size", "dateModified")} == {
        key: before[0][key] for key in ("id", "title", "size", "dateModified")
    }
    assert sorted(entry["title"] for entry in api.ok("GET", "files")) == ["reports"]
    assert sorted(path.name for path in (root / "reports").iterdir()) == ["q3.bin"]
    pending = api.ok("GET", "metadata", params={"id": reserved["id"]})
    assert (pending["title"], pending["size"]) == ("new.bin", 0)
    assert api.client.get("/download", params={"id": reserved["id"]}).status_code == 404
    api.ok("PUT", "upload", params={"id": item["id"]}, content=b"a new version")
    assert api.download(item["id"]) == b"a new version"
    api.ok("PUT", "upload", params={"id": reserved["id"]}, content=b"completed")
    assert api.download(reserved["id"]) == b"completed"
    api.close()


def test_over_the_limit_is_413_on_the_wire(start_server: Start, places: tuple[Path, Path]) -> None:
    root = places[0]
    server = serve(start_server, places, DOCRELAY_MAX_UPLOAD_BYTES="1000")
    api = Api(server)
    item = api.upload("/", "x.txt", b"old content")

    def blocks() -> Iterator[bytes]:
        for _number in range(500):
            yield b"y" * 10_000

    for body in (b"x" * 5_000_000, blocks()):
        response = api.client.put("/upload", params={"id": item["id"]}, content=body)
        assert response.status_code == 413, response.text
        assert response.json()["result"] == "fail"
    assert api.download(item["id"]) == b"old content"
    assert temporaries(root) == []
    assert [path.name for path in root.iterdir()] == ["x.txt"]
    api.close()


def test_a_client_that_leaves_mid_upload_changes_nothing(
    start_server: Start, places: tuple[Path, Path]
) -> None:
    root = places[0]
    server = serve(start_server, places)
    api = Api(server)
    item = api.upload("/", "kept.txt", b"kept content")
    connection = start_partial_upload(server, item["id"], declared=8 << 20, sent=3 << 20)
    wait_for(lambda: written_temporary(root), 10, "the upload to reach the disk")
    connection.close()
    wait_for(lambda: temporaries(root) == [], 10, "the temporary to be removed")
    assert api.download(item["id"]) == b"kept content"
    assert [entry["title"] for entry in api.ok("GET", "files")] == ["kept.txt"]
    assert sorted(path.name for path in root.iterdir()) == ["kept.txt"]
    assert api.ok("GET", "metadata", params={"id": item["id"]})["size"] == len(b"kept content")
    # the server is still well
    api.ok("PUT", "upload", params={"id": item["id"]}, content=b"next")
    assert api.download(item["id"]) == b"next"
    api.close()


def test_a_reservation_cut_off_mid_upload_stays_empty(
    start_server: Start, places: tuple[Path, Path]
) -> None:
    root = places[0]
    server = serve(start_server, places)
    api = Api(server)
    item = api.ok("POST", "uploadInit", params={"parentId": "/", "filename": "new.txt"})
    connection = start_partial_upload(server, item["id"], declared=4 << 20, sent=2 << 20)
    wait_for(lambda: written_temporary(root), 10, "the upload to reach the disk")
    connection.close()
    wait_for(lambda: temporaries(root) == [], 10, "the temporary to be removed")
    assert list(root.iterdir()) == []
    assert api.client.get("/download", params={"id": item["id"]}).status_code == 404
    api.ok("PUT", "upload", params={"id": item["id"]}, content=b"now complete")
    assert api.download(item["id"]) == b"now complete"
    api.close()


def test_ids_and_links_survive_a_restart(start_server: Start, places: tuple[Path, Path]) -> None:
    root = places[0]
    public = {"DOCRELAY_PUBLIC_URL": "https://docs.example.test/relay"}
    (root / "on-disk.txt").write_bytes(b"made behind docrelay's back")
    first = serve(start_server, places, **public)
    api = Api(first)
    folder = api.ok("POST", "createFolder", params={"parentId": "/", "name": "Projects"})
    sub = api.ok("POST", "createFolder", params={"parentId": folder["id"], "name": "Sub"})
    files = [
        api.upload(folder["id"], "plan.pdf", b"%PDF-1.4 plan"),
        api.upload(sub["id"], "notes.txt", b"notes"),
    ]
    renamed = api.upload("/", "draft.txt", b"draft")
    api.ok("PUT", "rename", params={"id": renamed["id"], "name": "final.txt"})
    listed = api.ok("GET", "files")
    ids = ["/", folder["id"], sub["id"], renamed["id"], *(item["id"] for item in files)]
    ids += [entry["id"] for entry in listed]
    before = {item_id: api.ok("GET", "metadata", params={"id": item_id}) for item_id in ids}
    assert before[renamed["id"]]["title"] == "final.txt"
    assert before[files[0]["id"]]["viewLink"].startswith("https://docs.example.test/relay/view/")
    api.close()
    first.stop()

    second = serve(start_server, places, **public)
    assert second.port != 0
    api = Api(second)
    after = {item_id: api.ok("GET", "metadata", params={"id": item_id}) for item_id in ids}
    assert after == before
    assert api.ok("GET", "files") == listed
    for item in files:
        link = after[item["id"]]["downloadLink"].replace("https://docs.example.test/relay", "")
        response = httpx.get(f"{second.url}{link}", timeout=10)
        assert response.status_code == 200
    assert api.download(files[1]["id"]) == b"notes"
    api.close()


KEY_LINE = re.compile(r"^\s*API key:\s*(\S+)\s*$", re.MULTILINE)


def test_the_first_start_prints_a_key_once(start_server: Start, places: tuple[Path, Path]) -> None:
    root, data = places
    first = start_server(root, data, DOCRELAY_CRAWL_INTERVAL="1")
    wait_for(lambda: "More keys" in "".join(first.stdout), 10, "the key to be printed")
    printed = "".join(first.stdout)
    keys = KEY_LINE.findall(printed)
    assert len(keys) == 1, printed
    assert printed.count("Base API URL") == 1
    assert f"Base API URL:         {first.url}/api" in printed
    key = keys[0]
    assert key not in "".join(first.stderr)  # the key is never logged
    with_key = httpx.get(
        f"{first.url}/api/files", headers={"apiKey": key, "username": USER}, timeout=10
    )
    assert with_key.status_code == 200, with_key.text
    without_user = httpx.get(f"{first.url}/api/files", headers={"apiKey": key}, timeout=10)
    assert without_user.status_code == 403
    wrong = httpx.get(
        f"{first.url}/api/files", headers={"apiKey": key + "x", "username": USER}, timeout=10
    )
    assert wrong.status_code == 403
    first.stop()

    second = start_server(root, data, DOCRELAY_CRAWL_INTERVAL="1")
    second.stop()
    assert KEY_LINE.findall("".join(second.stdout)) == []
    assert "Base API URL:  " not in "".join(second.stdout)

    third = start_server(root, data, DOCRELAY_CRAWL_INTERVAL="1")
    again = httpx.get(
        f"{third.url}/api/files", headers={"apiKey": key, "username": USER}, timeout=10
    )
    assert again.status_code == 200
    third.stop()
    assert KEY_LINE.findall("".join(third.stdout)) == []
