"""Changes made in the store behind docrelay's back (SPEC.md §4, Freshness)."""

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, USER, Server, Workfront


def crawl(wf: Workfront) -> int:
    return int(wf.client.app.state.crawler.crawl())  # type: ignore[attr-defined]


def child(wf: Workfront, folder_id: str, title: str) -> dict[str, Any]:
    matches = [item for item in wf.files(folder_id) if item["title"] == title]
    assert len(matches) == 1, (title, wf.files(folder_id))
    return matches[0]


def assert_gone(wf: Workfront, item_id: str) -> None:
    for endpoint in ("metadata", "download", "thumbnail"):
        response = wf.get(endpoint, params={"id": item_id})
        assert response.status_code == 404, (endpoint, response.status_code, response.text)
        assert response.json()["status"] == "error"


# --- in-process: at once, or at the next listing ------------------------------------------


def test_a_file_placed_on_disk_is_listed_at_once(wf: Workfront) -> None:
    folder = wf.folder("/", "inbox")
    assert wf.files(folder["id"]) == []
    (wf.root / "inbox" / "scan-0001.pdf").write_bytes(b"%PDF-1.4 scanned")
    (wf.root / "inbox" / "sub").mkdir()
    listed = wf.files(folder["id"])
    assert [(item["title"], item["kind"]) for item in listed] == [
        ("sub", "folder"),
        ("scan-0001.pdf", "file"),
    ]
    scan = listed[1]
    assert scan["size"] == len(b"%PDF-1.4 scanned")
    assert scan["mimeType"] == "application/pdf"
    assert wf.metadata(scan["id"]) == scan
    assert wf.get("download", params={"id": scan["id"]}).content == b"%PDF-1.4 scanned"
    assert wf.files(folder["id"]) == listed  # the same ids on the next listing


def test_a_file_renamed_on_disk_keeps_its_id(wf: Workfront) -> None:
    item = wf.upload("/", "draft.docx", b"draft content")
    os.rename(wf.root / "draft.docx", wf.root / "final.docx")
    listed = wf.files()
    assert [(entry["id"], entry["title"]) for entry in listed] == [(item["id"], "final.docx")]
    assert wf.metadata(item["id"])["title"] == "final.docx"
    assert wf.get("download", params={"id": item["id"]}).content == b"draft content"


def test_a_renamed_file_asked_for_before_the_listing_comes_back(wf: Workfront) -> None:
    item = wf.upload("/", "a.txt", b"a")
    os.rename(wf.root / "a.txt", wf.root / "b.txt")
    wf.get("metadata", params={"id": item["id"]})  # may be 404 until the folder is listed
    assert [entry["id"] for entry in wf.files()] == [item["id"]]
    assert wf.metadata(item["id"])["title"] == "b.txt"


@pytest.mark.parametrize("source_first", [True, False], ids=["source-first", "target-first"])
def test_a_file_moved_on_disk_into_another_folder_keeps_its_id(
    wf: Workfront, source_first: bool
) -> None:
    source = wf.folder("/", "source")
    target = wf.folder("/", "target")
    item = wf.upload(source["id"], "moved.txt", b"moved content")
    keep = wf.upload(source["id"], "kept.txt", b"kept")
    os.rename(wf.root / "source" / "moved.txt", wf.root / "target" / "renamed.txt")
    order = [source["id"], target["id"]] if source_first else [target["id"], source["id"]]
    for folder_id in order:
        wf.files(folder_id)
    assert [entry["id"] for entry in wf.files(source["id"])] == [keep["id"]]
    assert [(entry["id"], entry["title"]) for entry in wf.files(target["id"])] == [
        (item["id"], "renamed.txt")
    ]
    assert wf.metadata(item["id"])["title"] == "renamed.txt"
    assert wf.get("download", params={"id": item["id"]}).content == b"moved content"
    crawl(wf)
    assert [entry["id"] for entry in wf.search("renamed")] == [item["id"]]
    assert wf.search("moved") == []


def test_a_folder_moved_on_disk_keeps_its_id_and_its_childrens(wf: Workfront) -> None:
    outer = wf.folder("/", "outer")
    inner = wf.folder(outer["id"], "inner")
    deep = wf.upload(inner["id"], "deep.txt", b"deep")
    os.rename(wf.root / "outer" / "inner", wf.root / "inner-moved")
    listed = {entry["title"]: entry["id"] for entry in wf.files()}
    assert listed == {"outer": outer["id"], "inner-moved": inner["id"]}
    assert [entry["id"] for entry in wf.files(inner["id"])] == [deep["id"]]
    assert wf.get("download", params={"id": deep["id"]}).content == b"deep"
    assert wf.files(outer["id"]) == []


def test_a_file_deleted_on_disk_is_404_at_once(wf: Workfront) -> None:
    folder = wf.folder("/", "f")
    item = wf.upload(folder["id"], "photo.png", b"not really a png")
    other = wf.upload(folder["id"], "other.txt", b"other")
    assert wf.get("thumbnail", params={"id": item["id"]}).status_code == 200
    (wf.root / "f" / "photo.png").unlink()
    assert_gone(wf, item["id"])
    assert wf.metadata(other["id"])["title"] == "other.txt"
    assert [entry["id"] for entry in wf.files(folder["id"])] == [other["id"]]
    assert wf.search("photo") == []


def test_a_folder_deleted_on_disk_takes_its_files_with_it(wf: Workfront) -> None:
    folder = wf.folder("/", "f")
    item = wf.upload(folder["id"], "x.txt", b"x")
    (wf.root / "f" / "x.txt").unlink()
    (wf.root / "f").rmdir()
    assert_gone(wf, item["id"])
    response = wf.get("files", params={"parentId": folder["id"]})
    assert response.status_code == 404


def test_a_file_rewritten_on_disk_shows_its_new_content(wf: Workfront) -> None:
    item = wf.upload("/", "data.csv", b"a,b\n1,2\n")
    first = wf.get("download", params={"id": item["id"]})
    (wf.root / "data.csv").write_bytes(b"a,b\n1,2\n3,4\n5,6\n")
    assert wf.metadata(item["id"])["size"] == len(b"a,b\n1,2\n3,4\n5,6\n")
    second = wf.get("download", params={"id": item["id"]})
    assert second.content == b"a,b\n1,2\n3,4\n5,6\n"
    assert second.headers["content-length"] == str(len(b"a,b\n1,2\n3,4\n5,6\n"))
    assert second.headers["etag"] != first.headers["etag"]
    stale = wf.get(
        "download", params={"id": item["id"]}, headers={"if-none-match": first.headers["etag"]}
    )
    assert stale.status_code == 200
    fresh = wf.get(
        "download", params={"id": item["id"]}, headers={"if-none-match": second.headers["etag"]}
    )
    assert fresh.status_code == 304
    assert [entry["size"] for entry in wf.files()] == [len(b"a,b\n1,2\n3,4\n5,6\n")]


def test_a_file_replaced_on_disk_by_a_folder(wf: Workfront) -> None:
    item = wf.upload("/", "thing", b"a file")
    (wf.root / "thing").unlink()
    (wf.root / "thing").mkdir()
    assert_gone(wf, item["id"])
    listed = wf.files()
    assert [(entry["title"], entry["kind"]) for entry in listed] == [("thing", "folder")]
    assert listed[0]["id"] != item["id"]


def test_the_crawler_catalogues_a_deep_tree_for_search(wf: Workfront) -> None:
    depth, width = 8, 3
    expected = set()
    folder = wf.root
    for level in range(depth):
        folder = folder / f"level-{level}"
        for number in range(width):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"needle-{level}-{number}.txt").write_bytes(b"n" * (level + 1))
            expected.add(f"needle-{level}-{number}.txt")
    assert wf.search("needle") == []  # nothing listed yet: the crawler has not run
    visited = crawl(wf)
    assert visited == depth + 1
    found = wf.search("needle")
    assert {item["title"] for item in found} == expected
    deepest = wf.search(f"needle-{depth - 1}-0")
    assert [item["title"] for item in deepest] == [f"needle-{depth - 1}-0.txt"]
    assert wf.get("download", params={"id": deepest[0]["id"]}).content == b"n" * depth
    # a second crawl finds the same ids
    crawl(wf)
    assert {item["id"] for item in wf.search("needle")} == {item["id"] for item in found}


def test_the_crawler_notices_deletions_and_renames(wf: Workfront) -> None:
    (wf.root / "a" / "b").mkdir(parents=True)
    (wf.root / "a" / "b" / "old-name.txt").write_bytes(b"x")
    (wf.root / "a" / "b" / "doomed.txt").write_bytes(b"y")
    crawl(wf)
    (old,) = wf.search("old-name")
    os.rename(wf.root / "a" / "b" / "old-name.txt", wf.root / "a" / "new-name.txt")
    (wf.root / "a" / "b" / "doomed.txt").unlink()
    crawl(wf)
    assert wf.search("old-name") == []
    assert wf.search("doomed") == []
    assert [item["id"] for item in wf.search("new-name")] == [old["id"]]


# --- the real server, with file-system events -----------------------------------------------

HEADERS = {"apiKey": API_KEY, "username": USER}


def search_until(
    server: Server, query: str, done: Callable[[list[dict[str, Any]]], bool], limit: float = 15
) -> tuple[list[dict[str, Any]], float]:
    started = time.monotonic()
    found: list[dict[str, Any]] = []
    while time.monotonic() - started < limit:
        response = httpx.get(
            f"{server.url}/api/search", params={"query": query}, headers=HEADERS, timeout=10
        )
        assert response.status_code == 200, response.text
        found = response.json()
        if done(found):
            return found, time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"search for {query!r} still gives {found} after {limit}s")


@pytest.mark.server
@pytest.mark.parametrize("crawl_interval", ["0", "1"], ids=["events-only", "events-and-crawl"])
def test_changes_on_disk_reach_search_within_10_seconds(
    start_server: Callable[..., Server], tmp_path: Path, crawl_interval: str
) -> None:
    root = tmp_path / "root"
    (root / "deep" / "er").mkdir(parents=True)
    server = start_server(
        root,
        tmp_path / "data",
        DOCRELAY_API_KEY=API_KEY,
        DOCRELAY_CRAWL_INTERVAL=crawl_interval,
        DOCRELAY_WATCH="true",
    )
    # the watcher starts with the server; wait until it says its watch is in place
    httpx.get(f"{server.url}/api/files", headers=HEADERS, timeout=10)
    deadline = time.monotonic() + 15
    while not any("Following file events" in line for line in server.stderr):
        assert time.monotonic() < deadline, "the watcher never started:\n" + "".join(server.stderr)
        time.sleep(0.1)

    (root / "deep" / "er" / "quarterly-zebra.pdf").write_bytes(b"%PDF-1.4")
    found, took = search_until(server, "zebra", lambda found: len(found) == 1)
    assert took < 10
    assert found[0]["title"] == "quarterly-zebra.pdf"
    zebra_id = found[0]["id"]

    (root / "new-folder").mkdir()
    (root / "new-folder" / "giraffe.txt").write_bytes(b"g")
    found, took = search_until(server, "giraffe", lambda found: len(found) == 1)
    assert took < 10

    os.rename(root / "deep" / "er" / "quarterly-zebra.pdf", root / "new-folder" / "okapi.pdf")
    found, took = search_until(server, "okapi", lambda found: len(found) == 1)
    assert took < 10
    assert found[0]["id"] == zebra_id
    search_until(server, "zebra", lambda found: found == [])

    (root / "new-folder" / "giraffe.txt").unlink()
    _found, took = search_until(server, "giraffe", lambda found: found == [])
    assert took < 10


@pytest.mark.server
def test_file_events_go_on_after_a_name_watchfiles_cannot_decode(
    start_server: Callable[..., Server], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    server = start_server(
        root, tmp_path / "data", DOCRELAY_API_KEY=API_KEY, DOCRELAY_CRAWL_INTERVAL="0"
    )
    deadline = time.monotonic() + 15
    while not any("Following file events" in line for line in server.stderr):
        assert time.monotonic() < deadline, "the watcher never started:\n" + "".join(server.stderr)
        time.sleep(0.1)
    # anyone who can write to the share can make a name that is not UTF-8
    (root / os.fsdecode(b"bad-\xff-name.txt")).write_bytes(b"x")
    time.sleep(1.5)  # its event reaches the watcher, which stops and starts again
    (root / "after-the-bad-name.txt").write_bytes(b"y")
    found, _took = search_until(server, "after-the-bad", lambda found: len(found) == 1, limit=20)
    assert found[0]["title"] == "after-the-bad-name.txt"
    assert server.alive()
