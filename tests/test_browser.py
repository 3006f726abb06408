"""The browser pages in a real browser: Playwright driving Debian's Chromium, headless,
against ``docrelay serve`` on a free port, with a local stand-in for Workfront's
redirect URI. Every page visited is kept as a screenshot in ``test-artifacts/``.

The server accepts both API keys and bearer tokens (``auth = "both"``) so that the page
tests can list items as Workfront would without depending on the handshake test; the
handshake itself uses bearer tokens only.
"""

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import Server
from typer.testing import CliRunner

from docrelay.cli import app

pytestmark = pytest.mark.server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
API_KEY = "browser-test-key-0123456789"
NAME = "grace@example.com"
PASSWORD = "correct horse battery"
TOKEN_SECONDS = 3
PHONE = {"width": 390, "height": 844}


class Catcher:
    """Workfront's redirect URI: records the query of every request it gets."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                address = urlsplit(self.path)
                if address.path == "/oauth/callback":  # not the browser's /favicon.ico
                    query = parse_qs(address.query)
                    received.append({key: values[0] for key, values in query.items()})
                body = b"<!doctype html><title>Workfront</title><h1>Workfront stand-in</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Setup:
    def __init__(self, server: Server, catcher: Catcher, client_id: str, secret: str) -> None:
        self.server = server
        self.catcher = catcher
        self.client_id = client_id
        self.secret = secret
        self.http = httpx.Client(base_url=server.url, trust_env=False, timeout=10)

    def listing(self, parent_id: str = "/") -> list[dict[str, Any]]:
        headers = {"apiKey": API_KEY, "username": NAME}
        answer = self.http.get("/api/files", params={"parentId": parent_id}, headers=headers)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()
        return items

    def find(self, *names: str) -> dict[str, Any]:
        parent = "/"
        found: dict[str, Any] = {}
        for name in names:
            found = next(item for item in self.listing(parent) if item["title"] == name)
            parent = found["id"]
        return found


def _register(data_dir: Path, redirect_uri: str) -> tuple[str, str]:
    runner = CliRunner()
    where = ["--data-dir", str(data_dir)]
    added = runner.invoke(app, ["users", "add", NAME, "--password-stdin", *where], input=PASSWORD)
    assert added.exit_code == 0, added.output
    client = runner.invoke(app, ["clients", "add", "--redirect-uri", redirect_uri, *where])
    assert client.exit_code == 0, client.output
    fields = dict(
        line.strip().split(":", 1) for line in client.output.splitlines() if line.startswith("  ")
    )
    return fields["Client ID"].strip(), fields["Client Secret"].strip()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("browser")
    root, data_dir = base / "documents", base / "data"
    (root / "Projects" / "2024").mkdir(parents=True)
    (root / "Projects" / "2024" / "Quarterly report.txt").write_text("Figures for 2024.\n")
    (root / "Projects" / "Brief.txt").write_text("The brief.\n")
    catcher = Catcher()
    client_id, secret = _register(data_dir, catcher.uri)
    env = {
        "DOCRELAY_AUTH": "both",
        "DOCRELAY_LINKS": "sign-in",
        "DOCRELAY_API_KEY": API_KEY,
        "DOCRELAY_OAUTH_ACCESS_TOKEN_SECONDS": str(TOKEN_SECONDS),
        "DOCRELAY_CRAWL_INTERVAL": "0",
        "DOCRELAY_WATCH": "false",
        "NO_PROXY": "127.0.0.1",
    }
    server = Server(root, data_dir, env)
    done = Setup(server, catcher, client_id, secret)
    try:
        yield done
    finally:
        done.http.close()
        server.stop()
        catcher.stop()
    log = "".join(server.stderr)
    for secret_text in (PASSWORD, secret):
        assert secret_text not in log


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (scripts/test installs Debian's chromium as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1024, "height": 720})
    yield context.new_page()
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, screenshot: str | None = None) -> None:
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.click("button[type=submit]")


def test_the_workfront_handshake(setup: Setup, page: Any) -> None:
    page.goto(f"{setup.server.url}/oauth/authorize?state=wf%2Fstate%201")
    shot(page, "01-sign-in")
    sign_in(page, "02-sign-in-filled")
    page.wait_for_url("**/oauth/authorize?**")
    assert page.locator("h1").inner_text() == "Connect Workfront?"
    assert NAME in page.inner_text("main")
    shot(page, "03-consent")
    page.click("button[value=allow]")
    page.wait_for_url(setup.catcher.uri + "?**")
    shot(page, "04-redirected-to-workfront")
    query = setup.catcher.received[-1]
    assert query["state"] == "wf/state 1" and query["code"]

    pair = (setup.client_id, setup.secret)
    grant = {"grant_type": "authorization_code", "code": query["code"]}
    tokens = setup.http.post("/oauth/token", data=grant, auth=pair).json()
    assert set(tokens) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert tokens["expires_in"] == TOKEN_SECONDS and tokens["token_type"] == "Bearer"

    def files(access_token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        return setup.http.get("/api/files", headers=headers)

    assert [item["title"] for item in files(tokens["access_token"]).json()] == ["Projects"]
    time.sleep(TOKEN_SECONDS + 0.5)
    expired = files(tokens["access_token"])
    assert expired.status_code == 403 and expired.json()["status"] == "error"
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": setup.client_id,
        "client_secret": setup.secret,
    }
    renewed = setup.http.post("/oauth/token", data=refresh)
    assert renewed.status_code == 200, renewed.text
    assert files(renewed.json()["access_token"]).status_code == 200
    replayed = setup.http.post("/oauth/token", data=refresh)
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    assert setup.http.post("/oauth/token", data=grant, auth=pair).status_code == 400


def test_refusal(setup: Setup, browser: Any) -> None:
    params = (
        f"client_id={setup.client_id}&redirect_uri={setup.catcher.uri}"
        "&response_type=code&scope=documents&state=refused"
    )
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{setup.server.url}/oauth/authorize?{params}")
    page.fill("input[name=name]", NAME)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "The name or password is wrong" in page.inner_text("[role=alert]")
    shot(page, "10-sign-in-failed-phone")
    sign_in(page)
    page.wait_for_url("**/oauth/authorize?**")
    shot(page, "11-consent-phone")
    page.click("button[value=deny]")
    page.wait_for_url(setup.catcher.uri + "?**")
    query = setup.catcher.received[-1]
    assert query["error"] == "access_denied" and query["state"] == "refused"
    assert "code" not in query
    page.context.close()


def test_a_wrong_redirect_uri_gets_an_error_page(setup: Setup, page: Any) -> None:
    before = len(setup.catcher.received)
    params = f"client_id={setup.client_id}&redirect_uri=http://127.0.0.1:9/steal&state=x"
    answer = page.goto(f"{setup.server.url}/oauth/authorize?{params}")
    assert answer.status == 400
    assert "cannot be used" in page.inner_text("main")
    assert page.url.startswith(setup.server.url)
    shot(page, "05-wrong-redirect-uri")
    assert len(setup.catcher.received) == before


def test_a_view_link_signs_in_then_shows_the_document(setup: Setup, page: Any) -> None:
    document = setup.find("Projects", "Brief.txt")
    page.goto(document["viewLink"])
    assert "/signin?next=" in page.url
    sign_in(page)
    page.wait_for_url(document["viewLink"])
    assert page.locator("h1").inner_text() == "Brief.txt"
    shot(page, "06-document")
    with page.expect_download() as download:
        page.click("a.button")
    assert Path(download.value.path()).read_text() == "The brief.\n"
    assert download.value.suggested_filename == "Brief.txt"


def test_a_folder_page_with_breadcrumbs(setup: Setup, browser: Any) -> None:
    folder = setup.find("Projects", "2024")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(folder["viewLink"])
    shot(page, "07-sign-in-phone")
    sign_in(page)
    page.wait_for_url(folder["viewLink"])
    crumbs = page.locator("nav.crumbs li").all_inner_texts()
    assert [crumb.replace("›", "").strip() for crumb in crumbs] == ["Documents", "Projects"]
    assert "Quarterly report.txt" in page.inner_text("main")
    shot(page, "08-folder-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    page.click("nav.crumbs >> text=Projects")
    page.wait_for_url(setup.find("Projects")["viewLink"])
    assert page.locator("h1").inner_text() == "Projects"
    shot(page, "09-folder-up")
    page.click("text=Sign out")
    page.wait_for_url("**/signin")
    page.goto(folder["viewLink"])
    assert "/signin?next=" in page.url
    context.close()
