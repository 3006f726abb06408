"""The body of ``PUT /upload``: raw bytes, or a multipart body with exactly one file part.

Bytes are handed on as they arrive, in blocks of about a megabyte, so memory stays flat
whatever the size; nothing of the body is ever read as parameters.
"""

from collections.abc import AsyncIterator, Callable

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from docrelay.errors import BadRequest, TooLarge
from docrelay.numbers import decimal

BLOCK = 1024 * 1024


class _OneFilePart:
    """Feeds a multipart body and keeps the data of its single file part."""

    def __init__(self, boundary: bytes) -> None:
        self.out = bytearray()
        self.file_parts = 0
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field_data,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
            },
        )

    def _part_begin(self) -> None:
        self._headers = {}
        self._in_file = False

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.strip().lower()] = self._header_value.strip()
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _value, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"filename" in options or b"filename*" in options:
            self.file_parts += 1
            if self.file_parts > 1:
                raise BadRequest("The multipart body has more than one file part.")
            self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.out += data[start:end]


async def blocks(
    stream: AsyncIterator[bytes], content_type: str, limit: int
) -> AsyncIterator[bytes]:
    """The file's bytes from the request body, in blocks; ``TooLarge`` past ``limit``."""
    media, options = parse_options_header(content_type)
    multipart: _OneFilePart | None = None
    if media == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise BadRequest("The multipart body has no boundary.")
        multipart = _OneFilePart(boundary)
    pending = bytearray()
    total = raw_total = 0
    async for chunk in stream:
        raw_total += len(chunk)
        if multipart is not None:
            _feed(multipart, chunk)
            data = bytes(multipart.out)
            multipart.out.clear()
        else:
            data = chunk
        total += len(data)
        if total > limit or raw_total > limit + BLOCK:
            raise TooLarge(f"The upload is larger than the limit of {limit} bytes.")
        pending += data
        if len(pending) >= BLOCK:
            yield bytes(pending)
            pending.clear()
    if multipart is not None:
        _feed(multipart, None)
        pending += multipart.out
        if multipart.file_parts != 1:
            raise BadRequest("The multipart body has no file part.")
    if pending:
        yield bytes(pending)


def _feed(multipart: _OneFilePart, chunk: bytes | None) -> None:
    try:
        if chunk is None:
            multipart.parser.finalize()
        else:
            multipart.parser.write(chunk)
    except MultipartParseError:
        raise BadRequest("The multipart body is malformed.") from None


def declared_length(header: str | None, limit: int, reject: Callable[[str], Exception]) -> None:
    """Refuse early a body whose declared length passes the limit."""
    if header is None:
        return
    length = decimal(header.strip(), limit)
    if length is None:
        raise reject("The Content-Length header is not a number.")
    if length > limit:
        raise TooLarge(f"The upload is larger than the limit of {limit} bytes.")
