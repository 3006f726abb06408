"""Numbers, dates and queries no parser is ready for get SPEC's answers, never a 500."""

import hashlib
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import API_KEY, Server, Workfront

from docrelay.api.ranges import byte_range
from docrelay.api.uploads import declared_length
from docrelay.catalog.search import MAX_WORDS
from docrelay.errors import BadRequest, TooLarge
from docrelay.numbers import decimal

HUGE = "9" * 5000  # int() refuses more than 4 300 digits


def _file(wf: Workfront, content: bytes = b"0123456789") -> str:
    return wf.upload("/", "ten.txt", content)["id"]  # type: ignore[no-any-return]


def test_range_positions_of_thousands_of_digits(wf: Workfront) -> None:
    item = _file(wf)
    to_the_end = wf.get("download", params={"id": item}, headers={"Range": f"bytes=2-{HUGE}"})
    assert to_the_end.status_code == 206 and to_the_end.content == b"23456789"
    beyond = wf.get("download", params={"id": item}, headers={"Range": f"bytes={HUGE}-"})
    assert beyond.status_code == 416 and beyond.json()["status"] == "error"
    suffix = wf.get("download", params={"id": item}, headers={"Range": f"bytes=-{HUGE}"})
    assert suffix.status_code == 206 and suffix.content == b"0123456789"
    padded = wf.get("download", params={"id": item}, headers={"Range": "bytes=" + "0" * 40 + "3-4"})
    assert padded.status_code == 206 and padded.content == b"34"


def test_dates_beyond_any_calendar_are_ignored(wf: Workfront) -> None:
    item = _file(wf)
    for date in (
        "Thu, 01 Jan 99999999999999999999 00:00:00 GMT",
        "Thu, 01 Jan 10000 00:00:00 GMT",
        "garbage",
    ):
        answer = wf.get("download", params={"id": item}, headers={"If-Modified-Since": date})
        assert answer.status_code == 200 and answer.content == b"0123456789", date


@pytest.mark.parametrize("endpoint", ["files", "search"])
@pytest.mark.parametrize("parameter", ["max", "offset"])
def test_windows_of_thousands_of_digits_are_400(
    wf: Workfront, endpoint: str, parameter: str
) -> None:
    answer = wf.get(endpoint, params={"parentId": "/", "query": "ten", parameter: HUGE})
    assert answer.status_code == 400
    assert parameter in answer.json()["error"]


def test_leading_zeros_are_still_numbers_and_empty_is_none(wf: Workfront) -> None:
    _file(wf)
    assert [item["title"] for item in wf.files("/", max="0001", offset="000")] == ["ten.txt"]
    for empty in ("", " ", "0x1", "-0"):
        answer = wf.get("files", params={"parentId": "/", "offset": empty})
        assert answer.status_code == 400, repr(empty)


def test_a_query_of_too_many_words_is_400_and_repeats_count_once(wf: Workfront) -> None:
    _file(wf)
    words = [f"w{n}" for n in range(MAX_WORDS + 1)]
    answer = wf.get("search", params={"query": " ".join(words)})
    assert answer.status_code == 400 and answer.json()["status"] == "error"
    assert wf.get("search", params={"query": " ".join(words[:MAX_WORDS])}).status_code == 200
    assert [item["title"] for item in wf.search(" ".join(["ten"] * 1000))] == ["ten.txt"]


def test_declared_lengths_of_thousands_of_digits() -> None:
    with pytest.raises(TooLarge):
        declared_length(HUGE, 10**10, BadRequest)
    with pytest.raises(BadRequest):
        declared_length("١٢", 10**10, BadRequest)  # digits, but not ASCII ones
    declared_length("0" * 50 + "12", 10**10, BadRequest)
    with pytest.raises(BadRequest):
        declared_length("", 10**10, BadRequest)


# --- a file that shrinks while it is sent, on a real server ----------------------------------


@pytest.mark.server
@pytest.mark.parametrize("cached", [True, False], ids=["sent-by-the-kernel", "read-by-docrelay"])
def test_a_file_that_shrinks_mid_download_closes_the_connection_quietly(
    start_server: Callable[..., Server], tmp_path: Path, cached: bool
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    content = hashlib.sha256(b"shrink").digest() * (2 * 1024 * 1024)  # 64 MiB
    (root / "big.bin").write_bytes(content)
    server = start_server(root, tmp_path / "data", DOCRELAY_API_KEY=API_KEY)
    headers = {"apiKey": API_KEY, "username": "ada@example.com"}
    [item] = httpx.get(f"{server.url}/api/files", headers=headers, timeout=30).json()
    if not cached:
        with open(root / "big.bin", "rb") as handle:
            os.fsync(handle.fileno())
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    received = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        raw.sendall(
            f"GET /api/download?id={item['id']} HTTP/1.1\r\nHost: x\r\n"
            f"apiKey: {API_KEY}\r\nusername: ada@example.com\r\n\r\n".encode()
        )
        while received < 1024 * 1024:
            received += len(raw.recv(65536))
        os.truncate(root / "big.bin", 10 * 1024 * 1024)
        while chunk := raw.recv(1024 * 1024):
            received += len(chunk)
    assert received < len(content)  # the connection closed before the promised length
    deadline = time.monotonic() + 5
    while not any("ended" in line and "shrank" in line for line in server.stderr):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    log = "".join(server.stderr)
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


def test_decimal_reads_ascii_digits_and_caps_what_is_larger() -> None:
    assert decimal("0", 10) == 0
    assert decimal("007", 10) == 7
    assert decimal("10", 10) == 10
    assert decimal("11", 10) == 11  # ceiling + 1: too large, whatever the value
    assert decimal(HUGE, 10) == 11
    assert decimal("0" * 5000 + "3", 10) == 3
    for not_a_number in ("", " 1", "1 ", "+1", "-1", "1.0", "1e3", "٣", "１", "0x1"):
        assert decimal(not_a_number, 10) is None, not_a_number


def test_a_range_in_digits_of_another_script_gives_the_whole_file() -> None:
    # HTTP carries no such header from httpx; the parser sees it only from other clients
    assert byte_range({"range": "bytes=١-٢"}, 10, "etag", "date") is None
    assert byte_range({"range": "bytes=1-2"}, 10, "etag", "date") == (1, 2)
