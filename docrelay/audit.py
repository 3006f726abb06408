"""The audit log: one JSON line per request that changes the store or reads a file's content.

Audited: ``uploadInit``, ``upload``, ``createFolder``, ``rename``, ``delete``,
``customAction`` and ``download`` through the API, and ``download_link`` (the browser
page behind downloadLink); with ``audit_thumbnails`` also ``thumbnail`` and
``thumbnail_link``, which are off by default because Workfront asks for one per document
it lists (the lines would drown the rest) and a thumbnail is a small preview, not the
file. Listings, metadata and searches read no content and are not audited; HEAD requests
read none either.

A line names the time the answer ended (RFC 3339, UTC, milliseconds), the acting user,
the action, the item's id, its path in the store (names joined by ``/``; with several
roots the root's name apart), the status and ``ok`` or ``error``, the body bytes
uploaded or sent, and the client's address. It never holds a header, a cookie or a
query string, so no key, token or signature reaches it.

Handlers tell which item a request is about with ``note``; the middleware writes the
line when the answer is complete. The lines go through a logger of their own, named
``docrelay.audit`` but kept out of the logging tree, so that they never reach the normal
log and two apps in one process (as in the tests) each keep their own file.
"""

import datetime
import json
import logging
import logging.handlers
import sys
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from docrelay import metrics
from docrelay.catalog.catalog import Catalog
from docrelay.catalog.items import Item
from docrelay.config import Settings
from docrelay.errors import DocrelayError
from docrelay.store.base import Path

log = logging.getLogger("docrelay.app")  # the normal log, for failures to write a line

STATE_KEY = "docrelay_audit"
ACTIONS = frozenset(
    {
        "uploadInit",
        "upload",
        "createFolder",
        "rename",
        "delete",
        "customAction",
        "customName",
        "download",
        "download_link",
    }
)
THUMBNAILS = frozenset({"thumbnail", "thumbnail_link"})
_ACTION_NAMES = {"customName": "customAction"}  # Workfront's alias of the same call
_READS = frozenset({"download", "download_link", *THUMBNAILS})
_MAX_ID = 64  # an id from the address of a failed request is cut to this length


def note(request: Request, item: Item, path: Path | None = None, **extra: str) -> None:
    """Tell the audit line of this request which item it is about (and its path in the
    store, when the handler has it at hand); ``extra`` adds fields, such as a rename's
    ``old_name``. Nothing is kept when the request is not audited."""
    noted = request.scope.get("state", {}).get(STATE_KEY)
    if noted is None:
        return
    noted.update(item=item, path=path, extra=extra)


def open_handler(settings: Settings) -> logging.Handler | None:
    """The handler ``audit_log`` asks for: standard output, a rotated file, or none."""
    target = (settings.audit_log or "").strip()
    if target.lower() in ("", "none"):
        return None
    if target == "-":
        return logging.StreamHandler(sys.stdout)
    path = FsPath(target).expanduser()
    if not path.is_absolute():
        path = settings.data_dir / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return logging.handlers.RotatingFileHandler(
        path,
        maxBytes=settings.audit_log_max_bytes,
        backupCount=settings.audit_log_backups,
        encoding="utf-8",
        delay=True,
    )


class AuditLog:
    """Writes the audit lines of one app through its own ``docrelay.audit`` logger."""

    def __init__(self, handler: logging.Handler, catalog: Catalog, thumbnails: bool) -> None:
        self.catalog = catalog
        self.actions = ACTIONS | THUMBNAILS if thumbnails else ACTIONS
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.handler = handler
        self.logger = logging.Logger("docrelay.audit", logging.INFO)
        self.logger.propagate = False
        self.logger.addHandler(handler)

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog) -> "AuditLog | None":
        handler = open_handler(settings)
        if handler is None:
            return None
        return cls(handler, catalog, settings.audit_thumbnails)

    def line(self, scope: Scope, exchange: metrics.Exchange) -> dict[str, Any]:
        """The audit line of a finished request (blocking: it may ask the catalog)."""
        state = scope.get("state", {})
        noted = state.get(STATE_KEY) or {}
        item: Item | None = noted.get("item")
        line: dict[str, Any] = {
            "time": _now(),
            "user": state.get("docrelay_user"),
            "action": _ACTION_NAMES.get(exchange.endpoint, exchange.endpoint),
            "id": item.id if item is not None else _requested_id(scope),
        }
        line.update(self._where(item, noted.get("path")))
        status = exchange.status
        line["status"] = status
        line["result"] = "ok" if status < 400 else "error"
        line["bytes"] = _content_bytes(exchange)
        client = scope.get("client")
        line["client"] = client[0] if client else None
        line.update(noted.get("extra") or {})
        return line

    def _where(self, item: Item | None, path: Path | None) -> dict[str, Any]:
        """``path`` in the store, and ``root`` with several roots."""
        if item is not None and path is None:
            try:
                path = self.catalog.path(item)
            except DocrelayError:
                path = None  # an ancestor went meanwhile: the id still says which item
        where: dict[str, Any] = {}
        if self.catalog.several_roots:
            where["root"] = path[0] if path else None
            path = path[1:] if path else path
        where["path"] = "/".join(path) if path is not None else None
        return where

    def write(self, scope: Scope, exchange: metrics.Exchange) -> None:
        try:
            text = json.dumps(self.line(scope, exchange))
        except Exception:  # a request never fails for its audit line, but says so
            log.exception("The audit line was not written")
            return
        self.logger.info("%s", text)

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.handler.close()


def _content_bytes(exchange: metrics.Exchange) -> int:
    """The bytes of content uploaded (received, even by a failed upload) or sent."""
    if exchange.endpoint == "upload":
        return exchange.received
    if exchange.endpoint in _READS and exchange.status in metrics.CONTENT_STATUSES:
        return exchange.sent
    return 0


def _now() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _requested_id(scope: Scope) -> str | None:
    """The id a request asked for when no handler got as far as noting its item: a page's
    address, or the ``id`` query parameter (never another parameter)."""
    given: str | None = scope.get("path_params", {}).get("item_id")
    if given is None:
        query = scope.get("query_string", b"").decode("latin-1")
        values = parse_qs(query).get("id")
        given = values[0] if values else None
    return given[:_MAX_ID] if given else None


class AuditMiddleware:
    def __init__(self, app: ASGIApp, audit: AuditLog) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        audited = (
            scope["type"] == "http"
            and scope["method"] != "HEAD"
            and metrics.endpoint_name(scope) in self.audit.actions
        )
        if not audited:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[STATE_KEY] = {}

        async def done(exchange: metrics.Exchange) -> None:
            with anyio.CancelScope(shield=True):  # written even when the client left
                await anyio.to_thread.run_sync(self.audit.write, scope, exchange)

        await metrics.observe(self.app, scope, receive, send, done)
