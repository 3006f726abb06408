"""HTTP validators and byte ranges for downloads (RFC 9110 §13–14)."""

import email.utils
import re

from docrelay.errors import RangeNotSatisfiable
from docrelay.numbers import decimal

_SINGLE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")  # ASCII digits, not \d's of every script
_BEYOND = 10**19  # more bytes than any file has


def _position(digits: str) -> int:
    """A byte position of the header; a number beyond every file stands as ``_BEYOND + 1``."""
    value = decimal(digits, _BEYOND)
    assert value is not None  # _SINGLE takes ASCII digits only
    return value


def quoted_etag(etag: str) -> str:
    return f'"{etag}"'


def not_modified(headers: dict[str, str], etag: str, mtime_seconds: int) -> bool:
    """Whether ``If-None-Match`` / ``If-Modified-Since`` make this a 304."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return quoted_etag(etag) in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, OverflowError):  # e.g. a year of twenty digits
            return False
        if since.tzinfo is None:
            return False
        return mtime_seconds <= int(since.timestamp())
    return False


def byte_range(headers: dict[str, str], size: int, etag: str, mtime: str) -> tuple[int, int] | None:
    """The one range to send as (first, last) inclusive, or None for the whole file.

    Several ranges, a malformed header, or an ``If-Range`` that no longer matches give the
    whole file; a well-formed range that no byte satisfies raises ``RangeNotSatisfiable``.
    """
    header = headers.get("range")
    if header is None:
        return None
    if_range = headers.get("if-range")
    if if_range is not None and if_range.strip() not in (quoted_etag(etag), mtime):
        return None
    match = _SINGLE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        suffix = _position(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable("The range asks for no bytes of the file.", size)
        return max(size - suffix, 0), size - 1
    first = _position(first_text)
    if last_text and _position(last_text) < first:
        return None  # malformed: the whole file
    last = _position(last_text) if last_text else size - 1
    if first >= size:
        raise RangeNotSatisfiable("The range starts beyond the end of the file.", size)
    return first, min(last, size - 1)
