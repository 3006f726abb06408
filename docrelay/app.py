"""create_app(settings): settings → store → catalog → auth → routes, composed once."""

import base64
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from docrelay.actions import Actions
from docrelay.api import openapi
from docrelay.api.router import ApiRouter
from docrelay.audit import AuditLog, AuditMiddleware
from docrelay.auth.access import AccessPolicy
from docrelay.auth.accounts import check_transport, open_accounts
from docrelay.auth.apikeys import KeyRing
from docrelay.catalog.catalog import Catalog
from docrelay.catalog.db import Database
from docrelay.config import Settings
from docrelay.crawler import Crawler
from docrelay.health import Readiness
from docrelay.links import Links
from docrelay.logs import AccessLog
from docrelay.metrics import Metrics, MetricsMiddleware
from docrelay.metrics import routes as metrics_routes
from docrelay.names import check_name, name_key
from docrelay.services import Services
from docrelay.store import Store, open_store
from docrelay.store.roots import RootsStore
from docrelay.thumbnails import Thumbnailer
from docrelay.web import oauth, pages, signin

log = logging.getLogger("docrelay.app")


def open_stores(settings: Settings) -> Store:
    """The store of ``root``, or with ``roots`` one store per named root under one top."""
    if not settings.roots:
        return open_store(settings.root, settings.root_options)
    names = [check_name(root.name) for root in settings.roots]
    if len({name_key(name) for name in names}) != len(names):
        raise ValueError("Two roots have the same name.")
    return RootsStore(
        {
            name: open_store(root.url, root.options)
            for name, root in zip(names, settings.roots, strict=True)
        }
    )


def build_services(settings: Settings) -> Services:
    """Open the store and the catalog (migrating it) and compose the parts."""
    store = open_stores(settings)
    store.check()
    database = Database(settings.catalog_url())
    catalog = Catalog(database, store, settings.listing_cache_items)
    catalog.open()
    return Services(
        settings=settings,
        store=store,
        catalog=catalog,
        keys=KeyRing(database, settings.api_key),
        access=AccessPolicy(settings.access, settings.default_access),
        links=Links(
            settings.base_url(),
            _link_secret(settings, catalog),
            signed=settings.link_mode() == "signed",
        ),
        thumbnails=Thumbnailer(
            settings.data_dir / "thumbnails",
            max_concurrent=settings.thumbnail_concurrency,
            max_pixels=settings.thumbnail_max_pixels,
        ),
        actions=Actions(settings.custom_actions),
        accounts=open_accounts(settings, database, catalog),
    )


def _link_secret(settings: Settings, catalog: Catalog) -> bytes:
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value().encode()
    generated = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return catalog.set_server_value("link_secret", generated, keep_existing=True).encode()


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    check_transport(settings)
    services = services or build_services(settings)
    crawler = Crawler(services.catalog, settings.crawl_interval, settings.trash_retention_days)
    api = ApiRouter(services)
    metrics = Metrics(services) if settings.metrics else None
    audit = AuditLog.from_settings(settings, services.catalog)
    readiness = Readiness(services, settings.readiness_timeout)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    api_document = openapi.document(settings.base_url(), settings.auth)

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(api_document)  # unauthenticated, like /serviceInfo

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        crawler.start(settings.watch)
        try:
            yield
        finally:
            crawler.stop()
            if audit is not None:
                audit.close()
            services.catalog.db.dispose()  # close pooled connections (a new pool opens on use)
            services.store.close()  # its file-event watches (made again on use)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readiness.answer, methods=["GET", "HEAD"]),
        *metrics_routes(metrics, settings.metrics_token),
        Route("/openapi.json", openapi_json, methods=["GET", "HEAD"]),
        Route("/api", api.handle, methods=methods),
        Route("/api/{endpoint:path}", api.handle, methods=methods),
        *pages.routes(services),
        *signin.routes(services),
        *oauth.routes(services),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.services = services
    app.state.crawler = crawler
    app.state.metrics = metrics
    if audit is not None:
        app.add_middleware(AuditMiddleware, audit=audit)
    if metrics is not None:
        app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(AccessLog)
    return app
