"""Prometheus metrics at ``GET /metrics``, in a registry of the app's own.

Requests are labelled by endpoint name (``files``, ``download``, ``view``,
``oauth_token``…), never by their path, so that ids cannot multiply the series. Store
errors are counted where they happen: the contract methods of each store are wrapped on
the instance (the class is left alone, so ``isinstance`` checks elsewhere still hold).
What the catalog knows (its size, the last crawl) is read when scraped, at most once
every ``cache_seconds``.
"""

import functools
import hmac
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docrelay import __version__
from docrelay.crawler import LAST_CRAWL
from docrelay.errors import DocrelayError, StoreUnavailable
from docrelay.services import Services
from docrelay.store.base import Store
from docrelay.store.failures import translate
from docrelay.store.roots import RootsStore

log = logging.getLogger("docrelay.metrics")

STORE_ERROR_KINDS = ("unreachable", "not_found", "permission", "other")
# the Store contract's methods, wrapped to count what they raise
_STORE_METHODS = (
    "check",
    "list_folder",
    "stat",
    "open_read",
    "begin_write",
    "make_folder",
    "move",
    "trash",
    "restore",
    "purge",
    "discard_temporary",
)
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
# browser pages whose first path segment names them; download and thumbnail are also
# API endpoints, so their pages get a label of their own
_PAGES = {"view": "view", "download": "download_link", "thumbnail": "thumbnail_link"}
_FIXED = {
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
    "/openapi.json": "openapi",
    "/oauth/authorize": "oauth_authorize",
    "/oauth/token": "oauth_token",
    "/signin": "signin",
    "/signout": "signout",
}
DOWNLOADS = frozenset({"download", "download_link"})
CONTENT_STATUSES = frozenset({200, 206})  # answers whose body is a file's content


@functools.cache
def _api_endpoints() -> frozenset[str]:
    # imported here: the API's handlers import docrelay.audit, which imports this module
    from docrelay.api.router import ENDPOINTS

    return frozenset(ENDPOINTS)


def endpoint_name(scope: Scope) -> str:
    """The endpoint a request is for, from a fixed set of names: ``unknown`` for an
    unknown API endpoint, ``other`` for any other address."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    if path == "/api" or path.startswith("/api/"):
        name = path[len("/api") :].strip("/")
        return name if name in _api_endpoints() else "unknown"
    first, slash, rest = path.lstrip("/").partition("/")
    if slash and rest and first in _PAGES:
        return _PAGES[first]
    return _FIXED.get(path, "other")


def store_error_kind(error: BaseException) -> str | None:
    """How a store failed, for ``docrelay_store_errors_total``; None for an answer that is
    no failure (a taken name, a name the store refuses)."""
    error = translate(error)
    if isinstance(error, StoreUnavailable):
        return "unreachable"
    if isinstance(error, FileExistsError):
        return None
    if isinstance(error, FileNotFoundError | NotADirectoryError | IsADirectoryError):
        return "not_found"
    if isinstance(error, PermissionError):
        return "permission"
    if isinstance(error, DocrelayError):
        return None
    return "other"


@dataclass
class Exchange:
    """What one request came to: its status and the body bytes each way."""

    endpoint: str
    status: int = 0
    received: int = 0
    sent: int = 0
    seconds: float = 0.0


async def observe(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    done: Callable[[Exchange], Awaitable[None] | None],
) -> None:
    """Run ``app`` on one HTTP request, then hand ``done`` what it came to (also when the
    app raised: a request that got no answer counts as 500)."""
    exchange = Exchange(endpoint_name(scope))
    started = time.perf_counter()

    async def receiving() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            exchange.received += len(message.get("body", b""))
        return message

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
        elif message["type"] == "http.response.body":
            exchange.sent += len(message.get("body", b""))
        await send(message)

    try:
        await app(scope, receiving, sending)
    finally:
        exchange.seconds = time.perf_counter() - started
        exchange.status = exchange.status or 500
        outcome = done(exchange)
        if outcome is not None:
            await outcome


class Metrics:
    """The metrics of one app; ``registry`` is what ``/metrics`` shows."""

    def __init__(self, services: Services, cache_seconds: float = 5.0) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "docrelay_requests",
            "HTTP requests answered, by endpoint and status.",
            ["endpoint", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "docrelay_request_duration_seconds",
            "Time from a request's arrival to the last byte of its answer.",
            ["endpoint", "status"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.upload_bytes = Counter(
            "docrelay_upload_bytes",
            "Bytes of upload bodies received.",
            ["endpoint"],
            registry=registry,
        )
        self.download_bytes = Counter(
            "docrelay_download_bytes",
            "Bytes of file content sent, by /api/download and by downloadLink.",
            ["endpoint"],
            registry=registry,
        )
        self.store_errors = Counter(
            "docrelay_store_errors",
            "Failures of store calls, by root (empty with a single root) and kind.",
            ["root", "kind"],
            registry=registry,
        )
        info = Gauge("docrelay_build_info", "docrelay's version.", ["version"], registry=registry)
        info.labels(__version__).set(1)
        self.upload_bytes.labels("upload")
        for endpoint in sorted(DOWNLOADS):
            self.download_bytes.labels(endpoint)
        self.scraped = _Scraped(services, cache_seconds)
        self._calls = threading.local()  # how deep in store calls each thread is
        registry.register(self.scraped)
        self._watch(services.store)

    def _watch(self, store: Store) -> None:
        if getattr(store, "_docrelay_metrics", False):
            return  # one set of counting wrappers per store instance
        leaves = store.stores.items() if isinstance(store, RootsStore) else [("", store)]
        for root, leaf in leaves:
            for kind in STORE_ERROR_KINDS:
                self.store_errors.labels(root, kind)
            for name in _STORE_METHODS:
                setattr(leaf, name, self._counting(getattr(leaf, name), root))
        store._docrelay_metrics = True  # type: ignore[attr-defined]

    def _counting(self, method: Callable[..., Any], root: str) -> Callable[..., Any]:
        """``method``, counting what it raises; a store method calling another (a move
        that stats its result) counts one failure, the outer call's."""

        @functools.wraps(method)
        def counted(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._calls, "depth", 0)
            self._calls.depth = depth + 1
            try:
                return method(*args, **kwargs)
            except Exception as error:
                kind = store_error_kind(error) if depth == 0 else None
                if kind is not None:
                    self.store_errors.labels(root, kind).inc()
                raise
            finally:
                self._calls.depth = depth

        return counted

    def record(self, exchange: Exchange) -> None:
        endpoint, status = exchange.endpoint, str(exchange.status)
        self.requests.labels(endpoint, status).inc()
        self.latency.labels(endpoint, status).observe(exchange.seconds)
        if endpoint == "upload":
            self.upload_bytes.labels(endpoint).inc(exchange.received)
        elif endpoint in DOWNLOADS and exchange.status in CONTENT_STATUSES:
            self.download_bytes.labels(endpoint).inc(exchange.sent)


class _Scraped(Collector):
    """Values read when scraped: thumbnail cache counters, catalog size, last crawl."""

    def __init__(self, services: Services, cache_seconds: float) -> None:
        self.services = services
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._catalog: tuple[int, dict[str, float] | None] | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to read at registration: the catalog is asked only when scraped

    def collect(self) -> Iterator[Metric]:
        thumbnails = self.services.thumbnails
        yield CounterMetricFamily(
            "docrelay_thumbnail_cache_hits",
            "Thumbnails answered from the disk cache.",
            value=thumbnails.hits,
        )
        yield CounterMetricFamily(
            "docrelay_thumbnail_cache_misses",
            "Thumbnails rendered because the disk cache did not hold them.",
            value=thumbnails.misses,
        )
        read = self._read_catalog()
        if read is None:
            return
        size, crawl = read
        yield GaugeMetricFamily(
            "docrelay_catalog_items", "Items present in the catalog (the root included).", size
        )
        if crawl is None:
            return  # no crawl has completed yet
        finished = crawl["finished"]
        yield GaugeMetricFamily(
            "docrelay_crawl_last_completed_timestamp_seconds",
            "When the last complete crawl of the store ended (Unix time).",
            finished,
        )
        yield GaugeMetricFamily(
            "docrelay_crawl_lag_seconds",
            "Seconds since the last complete crawl of the store ended.",
            max(time.time() - finished, 0.0),
        )
        yield GaugeMetricFamily(
            "docrelay_crawl_duration_seconds",
            "How long the last complete crawl of the store took.",
            crawl["seconds"],
        )

    def _read_catalog(self) -> tuple[int, dict[str, float] | None] | None:
        with self._lock:
            if time.monotonic() - self._read_at < self.cache_seconds:
                return self._catalog
            catalog = self.services.catalog
            try:
                size = catalog.subtree_count()
                last = catalog.server_value(LAST_CRAWL)
                self._catalog = (size, json.loads(last) if last else None)
            except Exception as error:  # the metrics of the rest still answer
                log.warning("The catalog metrics cannot be read: %s", type(error).__name__)
                self._catalog = None
            self._read_at = time.monotonic()
            return self._catalog


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await observe(self.app, scope, receive, send, self.metrics.record)


def _authorized(request: Request, token: SecretStr) -> bool:
    scheme, _space, given = (request.headers.get("authorization") or "").strip().partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


def routes(metrics: Metrics | None, token: SecretStr | None) -> list[BaseRoute]:
    """``GET /metrics``, behind ``Authorization: Bearer <metrics_token>`` if one is set."""
    if metrics is None:
        return []

    async def scrape(request: Request) -> Response:
        if token is not None and not _authorized(request, token):
            return JSONResponse(
                {"status": "error", "error": "A valid bearer token is required."},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        text = await anyio.to_thread.run_sync(generate_latest, metrics.registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"])]
