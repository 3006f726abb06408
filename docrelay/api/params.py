"""Workfront's parameters: the query string, and for POST and PUT a form body (SPEC.md §2)."""

from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from docrelay.errors import BadRequest, TooLarge

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1024 * 1024
MAX_OFFSET = 2**31 - 1


def _decode(raw: bytes) -> dict[str, str]:
    """Decode once, by the form-urlencoded rules: ``+`` a space, ``%XX`` a byte, UTF-8."""
    values: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key, _equals, value = pair.partition(b"=")
        try:
            name = unquote_to_bytes(key.replace(b"+", b" ")).decode()
            text = unquote_to_bytes(value.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            raise BadRequest("A parameter is not valid UTF-8.") from None
        values.setdefault(name, text)  # the first of repeated parameters
    return values


class Params:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    @classmethod
    async def read(cls, request: Request, with_body: bool) -> "Params":
        values = _decode(request.scope.get("query_string", b""))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if with_body and request.method in ("POST", "PUT") and content_type == FORM:
            raw = bytearray()
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > MAX_FORM_BYTES:
                    raise TooLarge("The form body is too large.")
            for key, value in _decode(bytes(raw)).items():
                values.setdefault(key, value)  # the query string wins
        return cls(values)

    def get(self, *names: str) -> str | None:
        """The first of ``names`` that was given (an empty value counts as given)."""
        for name in names:
            if name in self._values:
                return self._values[name]
        return None

    def required(self, *names: str) -> str:
        value = self.get(*names)
        if value is None or value == "":
            raise BadRequest(f"The parameter {names[0]!r} is required.")
        return value

    def folder_id(self, name: str = "parentId") -> str:
        """A parent id: missing or empty means the root."""
        return self.get(name) or "/"

    def integer(self, name: str, low: int, high: int) -> int | None:
        raw = self.get(name)
        if raw is None:
            return None
        text = raw.strip()
        if not text.isdecimal() or not text.isascii():
            raise BadRequest(f"The parameter {name!r} must be a whole number from {low} to {high}.")
        value = int(text)
        if not low <= value <= high:
            raise BadRequest(f"The parameter {name!r} must be a whole number from {low} to {high}.")
        return value

    def window(self) -> tuple[int | None, int]:
        """``max`` (1..1000) and ``offset`` (0..2³¹−1)."""
        limit = self.integer("max", 1, 1000)
        offset = self.integer("offset", 0, MAX_OFFSET) or 0
        return limit, offset
