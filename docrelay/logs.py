"""Logging: one tree (``docrelay.<area>``) and one access line per request."""

import logging
import sys
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docrelay.errors import CutShort

access_log = logging.getLogger("docrelay.access")


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("docrelay")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(known, _NotCutShort) for known in uvicorn_errors.filters):
        uvicorn_errors.addFilter(_NotCutShort())


class _NotCutShort(logging.Filter):
    """Leaves out uvicorn's report of a download ended by ``CutShort`` (docrelay has
    logged it as a warning)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
            error = error.exceptions[0]
        return not isinstance(error, CutShort)


class AccessLog:
    """``METHOD /path status duration user`` for every request; never a query string,
    header or cookie, so no key, token or signature reaches the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            user = scope.get("state", {}).get("docrelay_user", "-")
            access_log.info(
                "%s %s %s %.1fms %s",
                scope["method"],
                scope["path"],
                status["code"] or "-",
                (time.perf_counter() - started) * 1000,
                user,
            )
