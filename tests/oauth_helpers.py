"""An in-process docrelay in OAuth2 mode, and the steps of Workfront's handshake."""

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conftest import make_settings
from starlette.testclient import TestClient

from docrelay.app import create_app
from docrelay.auth.clients import Client
from docrelay.auth.users import User
from docrelay.services import Services

PUBLIC = "https://docrelay.test"
REDIRECT = "https://wf.example.com/oauth/callback"
NAME = "grace@example.com"
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def oauth_settings(tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {"public_url": PUBLIC, "auth": "oauth2", "api_key": None}
    values.update(overrides)
    return make_settings(tmp_path, **values)


def csrf_of(html: str) -> str:
    found = _CSRF.findall(html)
    assert found, html
    return str(found[-1])


def action_of(html: str) -> str:
    found = _ACTION.findall(html)
    assert found, html
    return str(found[-1]).replace("&amp;", "&")


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """A browser (cookies kept) and Workfront's servers, against one app."""

    http: TestClient
    client: Client
    secret: str
    user: User
    tokens: list[dict[str, Any]] = field(default_factory=list)

    @property
    def services(self) -> Services:
        return self.http.app.state.services  # type: ignore[attr-defined,no-any-return]

    def sign_in(self, next_page: str = "", name: str = NAME, password: str = PASSWORD) -> Any:
        form = self.http.get("/signin", params={"next": next_page} if next_page else {})
        data = {"csrf": csrf_of(form.text), "next": next_page, "name": name, "password": password}
        return self.http.post("/signin", data=data)

    def authorize(self, **params: str) -> Any:
        return self.http.get("/oauth/authorize", params=params)

    def consent_page(self, **params: str) -> Any:
        page = self.authorize(**params)
        if page.status_code == 303 and "/signin" in page.headers["location"]:
            target = query_of(page.headers["location"])["next"]
            signed = self.sign_in(target)
            assert signed.status_code == 303, signed.text
            page = self.http.get(signed.headers["location"])
        assert page.status_code == 200, page.text
        return page

    def decide(self, page: Any, decision: str = "allow") -> Any:
        data = {"csrf": csrf_of(page.text), "decision": decision}
        return self.http.post(action_of(page.text), data=data)

    def code(self, **params: str) -> str:
        params.setdefault("state", "s-1")
        answer = self.decide(self.consent_page(**params))
        assert answer.status_code == 302, answer.text
        query = query_of(answer.headers["location"])
        assert query["state"] == params["state"]
        return query["code"]

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        pair = f"{client_id or self.client.id}:{secret or self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    def token(self, data: dict[str, str], how: str = "basic", **kwargs: Any) -> Any:
        """POST /oauth/token with the client pair in HTTP Basic, the body or the query."""
        data = dict(data)
        headers: dict[str, str] = {}
        params: dict[str, str] = {}
        pair = {"client_id": self.client.id, "client_secret": self.secret}
        if how == "basic":
            headers = self.basic()
        elif how == "body":
            data.update(pair)
        elif how == "query":
            params = pair
        return self.http.post("/oauth/token", data=data, headers=headers, params=params, **kwargs)

    def exchange(self, code: str, how: str = "basic", **extra: str) -> Any:
        return self.token({"grant_type": "authorization_code", "code": code, **extra}, how)

    def tokens_for(self, **params: str) -> dict[str, Any]:
        answer = self.exchange(self.code(**params))
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def refresh(self, refresh_token: str, how: str = "basic") -> Any:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token}, how)

    def api(self, access_token: str | None, endpoint: str = "files", method: str = "GET") -> Any:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return self.http.request(method, f"/api/{endpoint}", headers=headers)


def open_flow(http: TestClient, read_only: bool = False) -> Flow:
    services: Services = http.app.state.services  # type: ignore[attr-defined]
    accounts = services.accounts
    client, secret = accounts.clients.add("Workfront", REDIRECT)
    user = accounts.users.add(NAME, PASSWORD, read_only=read_only)
    return Flow(http, client, secret, user)


def oauth_client(tmp_path: Path, **overrides: Any) -> TestClient:
    app = create_app(oauth_settings(tmp_path, **overrides))
    return TestClient(app, base_url=PUBLIC, follow_redirects=False)
