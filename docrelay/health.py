"""``GET /readyz``: whether the catalog and every store answer, each within a time limit.

``/healthz`` (in ``docrelay.app``) only says the process runs. Readiness asks the catalog
for its root and calls ``check()`` on each store (on each root's with several roots),
all at once, each in a thread of its own: a store that hangs costs the probe
``readiness_timeout`` seconds and one thread, never more, since a check still running
is waited for again instead of being started twice.
"""

import concurrent.futures
import threading
from collections.abc import Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from docrelay import metrics
from docrelay.catalog.items import ROOT_ID
from docrelay.errors import DocrelayError
from docrelay.services import Services
from docrelay.store.options import looks_secret
from docrelay.store.roots import RootsStore

Check = Callable[[], object]


class Readiness:
    def __init__(self, services: Services, timeout: float) -> None:
        self.services = services
        self.timeout = timeout
        self._lock = threading.Lock()
        self._running: dict[str, concurrent.futures.Future[object]] = {}
        self._secrets = _secrets(services)

    def checks(self) -> dict[str, Check]:
        catalog = self.services.catalog
        store = self.services.store
        checks: dict[str, Check] = {"catalog": lambda: catalog.item(ROOT_ID)}
        if isinstance(store, RootsStore):
            checks.update({f"store:{name}": inner.check for name, inner in store.stores.items()})
        else:
            checks["store"] = store.check
        return checks

    async def answer(self, _request: Request) -> Response:
        futures = {name: self._start(name, check) for name, check in self.checks().items()}
        await anyio.to_thread.run_sync(
            concurrent.futures.wait, list(futures.values()), self.timeout
        )
        results = {name: self._outcome(future) for name, future in futures.items()}
        ready = all(result == "ok" for result in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "unready", "checks": results},
            status_code=200 if ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    def _start(self, name: str, check: Check) -> concurrent.futures.Future[object]:
        with self._lock:
            running = self._running.get(name)
            if running is not None and not running.done():
                return running
            future: concurrent.futures.Future[object] = concurrent.futures.Future()

            def run() -> None:
                try:
                    future.set_result(check())
                except BaseException as error:
                    future.set_exception(error)

            thread = threading.Thread(target=run, name=f"docrelay-ready-{name}", daemon=True)
            thread.start()
            self._running[name] = future
            return future

    def _outcome(self, future: concurrent.futures.Future[object]) -> str:
        if not future.done():
            return f"unreachable: no answer within {self.timeout:g} s"
        error = future.exception()
        if error is None:
            return "ok"
        kind = metrics.store_error_kind(error) or "error"
        return f"{kind}: {self._scrubbed(_reason(error))}"

    def _scrubbed(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _reason(error: BaseException) -> str:
    """A one-line reason in docrelay's own words: a store library's message may hold a
    URL or a host, so only its type is named."""
    if isinstance(error, DocrelayError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__


def _secrets(services: Services) -> list[str]:
    """Every configured secret, so that none is ever shown in a reason."""
    settings = services.settings
    found = [
        secret.get_secret_value()
        for secret in (settings.api_key, settings.link_secret, settings.metrics_token)
        if secret is not None
    ]
    for options in (settings.root_options, *(root.options for root in settings.roots)):
        found += _secret_values(options)
    return [secret for secret in found if len(secret) >= 4]


def _secret_values(options: object) -> list[str]:
    if isinstance(options, dict):
        return [
            text
            for key, value in options.items()
            for text in ([str(value)] if looks_secret(str(key)) else _secret_values(value))
        ]
    if isinstance(options, list | tuple):
        return [text for value in options for text in _secret_values(value)]
    return []
