"""The pages' HTML: Jinja2 templates (autoescaped), security headers and error pages."""

import logging
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, Response

from docrelay.api.errors import from_os_error
from docrelay.errors import DocrelayError, RangeNotSatisfiable

log = logging.getLogger("docrelay.web")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The signature in a page's address must never reach another site in a Referer.
_EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
_HTML = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "private, no-store",
}
# Files and thumbnails keep their own stricter policy when they set one.
_BYTES_POLICY = "default-src 'none'; sandbox"

_TITLES = {
    400: "This link cannot be opened",
    403: "Access refused",
    404: "Nothing here",
    405: "Not allowed",
    416: "Range not satisfiable",
    500: "Something went wrong",
    503: "The documents are unreachable",
}
_NOT_FOUND = "This link does not lead to a document: it may be incomplete, or the item was removed."

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("docrelay.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def secure(response: Response) -> Response:
    """Add the headers every answer of the pages carries; HTML gets the page policy."""
    for name, value in _EVERY_RESPONSE.items():
        response.headers.setdefault(name, value)
    if response.media_type == "text/html":
        response.headers.update(_HTML)
    else:
        response.headers.setdefault("Content-Security-Policy", _BYTES_POLICY)
    return response


def page(
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    html = _environment.get_template(template).render(context)
    return secure(HTMLResponse(html, status_code=status_code, headers=headers))


def error_page(error: DocrelayError, headers: dict[str, str] | None = None) -> Response:
    status = error.status
    if status == 404:
        message = _NOT_FOUND  # the same words whether the id exists or not
    elif status >= 500 and type(error) is DocrelayError:
        message = "docrelay failed; the server log says why."
    else:
        message = error.message
    title = _TITLES.get(status, "This link cannot be opened")
    context = {"title": title, "message": message, "status": status}
    return page("error.html", context, status, headers)


def failure_page(error: Exception) -> Response:
    """The error page for whatever a page's handler raised."""
    if isinstance(error, OSError):
        log.warning("Store error on a page: %s", error)
        error = from_os_error(error)
    if not isinstance(error, DocrelayError):
        log.error("A page failed", exc_info=error)
        error = DocrelayError("docrelay failed; the server log says why.")
    headers = None
    if isinstance(error, RangeNotSatisfiable):
        headers = {"Content-Range": f"bytes */{error.size}"}
    return error_page(error, headers)
