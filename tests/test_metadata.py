"""The metadata object's parts that are computed, not copied (SPEC.md §4)."""

import base64
import datetime
import hashlib
import hmac
import random

from docrelay.api.metadata import rfc3339
from docrelay.links import Links

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def written_out(mtime_ms: int) -> str:
    moment = EPOCH + datetime.timedelta(milliseconds=mtime_ms)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def test_dates_are_rfc3339_utc_with_milliseconds_over_the_whole_range() -> None:
    first = -62_135_596_800_000  # 0001-01-01T00:00:00.000Z
    last = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
    rng = random.Random(8)
    samples = [0, 1, -1, 999, 1000, -999, -1000, -1001, first, last]
    samples += [rng.randrange(first, last) for _ in range(20_000)]
    samples += [rng.randrange(-(10**12), 10**12) for _ in range(5_000)]  # 1938–2001
    for value in samples:
        assert rfc3339(value) == written_out(value), value
    assert rfc3339(1_401_989_985_251) == "2014-06-05T17:39:45.251Z"  # SPEC.md's example


def test_dates_beyond_what_rfc3339_writes_are_shown_at_its_ends() -> None:
    assert rfc3339(-62_135_596_800_001) == "0001-01-01T00:00:00.000Z"
    assert rfc3339(-(10**20)) == "0001-01-01T00:00:00.000Z"
    assert rfc3339(253_402_300_800_000) == "9999-12-31T23:59:59.000Z"
    assert rfc3339(10**20) == "9999-12-31T23:59:59.000Z"


def test_link_signatures_are_hmac_sha256_of_purpose_and_id() -> None:
    links = Links("https://docs.example.com/", b"k" * 32)
    for item_id in ("/", "AbCdEf-_0123456789abcd", "é/ ?&"):
        for purpose in ("view", "download", "thumbnail"):
            mac = hmac.new(b"k" * 32, f"{purpose}\x00{item_id}".encode(), hashlib.sha256)
            expected = base64.urlsafe_b64encode(mac.digest()[:18]).decode()
            assert links.signature(purpose, item_id) == expected
            assert links.verify(purpose, item_id, expected)
            assert not links.verify(purpose, item_id + "x", expected)
    assert (
        links.view("a b")
        == f"https://docs.example.com/view/a%20b?sig={links.signature('view', 'a b')}"
    )
