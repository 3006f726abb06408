"""Reading the forms of the pages and the OAuth2 endpoints: decoded once (SPEC.md §2),
bounded in size, and the ``next`` address checked so that no page redirects off-site."""

from urllib.parse import urlsplit

from starlette.requests import Request

from docrelay.api.params import FORM, MAX_FORM_BYTES, decode_form
from docrelay.auth.oauth import Incoming
from docrelay.errors import TooLarge


async def read_body(request: Request) -> dict[str, str]:
    """The fields of a form-urlencoded POST body; nothing for anything else."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST" or content_type != FORM:
        return {}
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            raise TooLarge("The form body is too large.")
    return decode_form(bytes(raw))


async def read_incoming(request: Request, base_url: str) -> Incoming:
    """The request as the OAuth2 server sees it, addressed by its public URL."""
    return Incoming(
        method=request.method,
        uri=base_url + this_page(request),
        headers=request.headers,
        query=decode_form(request.scope.get("query_string", b"")),
        body=await read_body(request),
    )


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this server (``/view/…``), else None: never another
    site, whether written ``https://evil``, ``//evil`` or ``/\\evil``."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def this_page(request: Request) -> str:
    """The path and query of the request as sent (``/view/%2F`` stays so), to come back
    to after signing in."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return (raw_path + (b"?" + query if query else b"")).decode("latin-1")
