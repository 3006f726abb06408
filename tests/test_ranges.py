"""Byte ranges and validators, against values worked out by hand from RFC 9110."""

import pytest

from docrelay.api.ranges import byte_range, not_modified
from docrelay.errors import RangeNotSatisfiable

SIZE = 10
DATE = "Thu, 03 Dec 2026 15:00:00 GMT"


def _range(header: str, size: int = SIZE, **extra: str) -> tuple[int, int] | None:
    return byte_range({"range": header, **extra}, size, "tag", DATE)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=2-5", (2, 5)),
        ("bytes=5-", (5, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=-30", (0, 9)),
        ("bytes=8-100", (8, 9)),
        ("bytes = 1-2", (1, 2)),
    ],
)
def test_single_ranges(header: str, expected: tuple[int, int]) -> None:
    assert _range(header) == expected


@pytest.mark.parametrize(
    "header", ["bytes=0-1,3-4", "bytes=5-1", "items=0-1", "bytes=", "bytes=-", "bytes=a-b", "0-1"]
)
def test_several_or_malformed_ranges_mean_the_whole_file(header: str) -> None:
    assert _range(header) is None


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=50-60", "bytes=-0"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        _range(header)
    assert raised.value.size == SIZE


def test_empty_file_has_no_satisfiable_range() -> None:
    with pytest.raises(RangeNotSatisfiable):
        _range("bytes=0-", size=0)


def test_if_range_that_no_longer_matches_gives_the_whole_file() -> None:
    assert _range("bytes=0-1", **{"if-range": '"tag"'}) == (0, 1)
    assert _range("bytes=0-1", **{"if-range": DATE}) == (0, 1)
    assert _range("bytes=0-1", **{"if-range": '"old"'}) is None


def test_not_modified() -> None:
    mtime = 1796310000  # Thu, 03 Dec 2026 15:00:00 GMT
    assert not_modified({"if-none-match": '"tag"'}, "tag", mtime)
    assert not_modified({"if-none-match": 'W/"tag", "x"'}, "tag", mtime)
    assert not_modified({"if-none-match": "*"}, "tag", mtime)
    assert not not_modified({"if-none-match": '"old"'}, "tag", mtime)
    assert not_modified({"if-modified-since": DATE}, "tag", mtime)
    assert not not_modified({"if-modified-since": DATE}, "tag", mtime + 1)
    # If-None-Match decides alone when both are sent (RFC 9110 §13.2.2)
    assert not not_modified({"if-none-match": '"old"', "if-modified-since": DATE}, "tag", mtime)
    assert not not_modified({"if-modified-since": "yesterday"}, "tag", mtime)
