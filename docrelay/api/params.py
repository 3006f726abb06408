"""Workfront's parameters: the query string, and for POST and PUT a form body (SPEC.md §2)."""

from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from docrelay.errors import BadRequest, TooLarge
from docrelay.numbers import decimal

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1024 * 1024
MAX_OFFSET = 2**31 - 1


# Parameters that name an item. A value of theirs that is not UTF-8 cannot be an id docrelay
# issued: it reaches the catalog with U+FFFD for the bad bytes and gets 404 like any unknown id.
ID_PARAMETERS = frozenset({"id", "parentId", "folderId", "documentId"})


def _decode_pairs(raw: bytes) -> tuple[dict[str, str], set[str]]:
    """The values (U+FFFD for bytes that are not UTF-8), and the names of those that had some."""
    values: dict[str, str] = {}
    malformed: set[str] = set()
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key, _equals, value = pair.partition(b"=")
        name = unquote_to_bytes(key.replace(b"+", b" ")).decode(errors="replace")
        if name in values:
            continue  # the first of repeated parameters
        data = unquote_to_bytes(value.replace(b"+", b" "))
        try:
            values[name] = data.decode()
        except UnicodeDecodeError:
            values[name] = data.decode(errors="replace")
            malformed.add(name)
    return values, malformed


def decode_form(raw: bytes) -> dict[str, str]:
    """Decode once, by the form-urlencoded rules: ``+`` a space, ``%XX`` a byte, UTF-8."""
    values, malformed = _decode_pairs(raw)
    if malformed:
        raise BadRequest("A parameter is not valid UTF-8.")
    return values


class Params:
    def __init__(self, values: dict[str, str], malformed: frozenset[str] = frozenset()) -> None:
        self._values = values
        self._malformed = malformed - ID_PARAMETERS

    @classmethod
    async def read(cls, request: Request, with_body: bool) -> "Params":
        values, malformed = _decode_pairs(request.scope.get("query_string", b""))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if with_body and request.method in ("POST", "PUT") and content_type == FORM:
            raw = bytearray()
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > MAX_FORM_BYTES:
                    raise TooLarge("The form body is too large.")
            body, body_malformed = _decode_pairs(bytes(raw))
            for key, value in body.items():
                if key not in values:  # the query string wins
                    values[key] = value
                    if key in body_malformed:
                        malformed.add(key)
        return cls(values, frozenset(malformed))

    def get(self, *names: str) -> str | None:
        """The first of ``names`` that was given (an empty value counts as given); 400 if
        its value is not UTF-8 (an id's never is refused: see ``ID_PARAMETERS``)."""
        for name in names:
            if name in self._values:
                if name in self._malformed:
                    raise BadRequest(f"The parameter {name!r} is not valid UTF-8.")
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
        value = decimal(raw.strip(), high)
        if value is None or not low <= value <= high:
            raise BadRequest(f"The parameter {name!r} must be a whole number from {low} to {high}.")
        return value

    def window(self) -> tuple[int | None, int]:
        """``max`` (1..1000) and ``offset`` (0..2³¹−1)."""
        limit = self.integer("max", 1, 1000)
        offset = self.integer("offset", 0, MAX_OFFSET) or 0
        return limit, offset
