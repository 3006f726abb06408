"""``docrelay serve``: bind, say what is served and from where, and run uvicorn."""

import logging
import socket
from typing import Any

import uvicorn
from sqlalchemy.engine import make_url

from docrelay import __version__
from docrelay.app import build_services, create_app
from docrelay.config import Settings
from docrelay.logs import configure
from docrelay.services import Services
from docrelay.zerocopy import ZeroCopyProtocol

log = logging.getLogger("docrelay.serve")

_SECRETS = {"api_key", "link_secret", "database_url", "metrics_token"}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _log_settings(settings: Settings, origins: dict[str, str]) -> None:
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in _SECRETS:
            shown = "set" if value else "not set"
            if name == "database_url" and value:
                shown = make_url(value).render_as_string(hide_password=True)
        else:
            shown = repr(value)
        log.info("Setting %s = %s (%s)", name, shown, origins.get(name, "default"))


def _first_key(services: Services) -> None:
    """With no key at all, make one and print it once with Workfront's form values."""
    if services.settings.auth == "oauth2":
        _oauth_hints(services)
        return
    keys = services.keys
    if keys.has_configured_key or keys.active_count():
        return
    info, key = keys.create("Workfront (made at first start)")
    base = services.settings.base_url()
    print(
        "\n"
        "docrelay made an API key. It is shown this once; only its hash is kept.\n"
        "In Workfront: Setup > Documents > Custom Integrations > Add Custom Integration\n"
        f"  Name:                 {services.settings.display_name}\n"
        f"  Base API URL:         {base}/api\n"
        "  Authentication type:  ApiKey\n"
        f"  API key:              {key}\n"
        "  Request parameters:   (leave empty)\n"
        f"More keys: docrelay keys create; this one has the id {info.id}.\n",
        flush=True,
    )


def _oauth_hints(services: Services) -> None:
    """In OAuth2 mode with no client or no user yet, say what to run."""
    accounts = services.accounts
    base = services.settings.base_url()
    if not accounts.clients.list():
        print(
            "\n"
            "docrelay serves OAuth2 and no client is registered yet.\n"
            "In Workfront: Setup > Documents > Custom Integrations > Add Custom Integration,\n"
            "choose OAuth2, copy the Workfront Redirect URI it shows, and run\n"
            "  docrelay clients add --name Workfront --redirect-uri 'THAT URI'\n"
            f"  Base API URL:         {base}/api\n"
            f"  Authentication URL:   {base}/oauth/authorize\n"
            f"  Token Endpoint URL:   {base}/oauth/token\n",
            flush=True,
        )
    if not accounts.users.list():
        print("No user can sign in yet: docrelay users add NAME\n", flush=True)


def uvicorn_config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=ZeroCopyProtocol,  # httptools, and downloads by sendfile (docrelay.zerocopy)
        loop="asyncio",  # uvloop has no sendfile
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def run(settings: Settings, origins: dict[str, str]) -> None:
    configure(settings.log_level)
    sock = _bind(settings.host, settings.port)
    settings = settings.model_copy(update={"port": sock.getsockname()[1]})
    log.info("docrelay %s starting", __version__)
    _log_settings(settings, origins)
    services = build_services(settings)
    log.info("Serving %s as %r", services.store.description, settings.display_name)
    log.info("Catalog in %s", make_url(settings.catalog_url()).render_as_string(hide_password=True))
    log.info("Data folder %s", settings.data_dir.resolve())
    _first_key(services)
    app = create_app(settings, services)
    log.info(
        "Listening on http://%s:%d; Workfront's Base API URL is %s/api",
        settings.host,
        settings.port,
        settings.base_url(),
    )
    config = uvicorn_config(app)
    uvicorn.Server(config).run(sockets=[sock])
