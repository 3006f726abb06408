"""Two docrelay instances on one PostgreSQL catalog and one S3 store (moto's server).

What an upload through one instance must give through the other: listing, search,
download; one crawler at a time; OAuth2 codes and tokens that work across instances.
"""

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, Server
from oauth_helpers import NAME, PASSWORD, REDIRECT, Flow
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from store.services import free_port, program, start_moto

from docrelay.auth.clients import Clients
from docrelay.auth.users import Users
from docrelay.catalog.db import Database

pytestmark = pytest.mark.server

ADMIN_URL = os.environ.get(
    "DOCRELAY_TEST_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BUCKET = "docrelay-scale"
HEADERS = {"apiKey": API_KEY, "username": "ada@example.com"}


def _needs(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture
def database() -> Iterator[str]:
    name = f"docrelay_scale_{secrets.token_hex(4)}"
    try:
        admin = create_engine(ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no PostgreSQL here
        _needs(f"PostgreSQL at {ADMIN_URL} cannot be used: {error}")
    yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[dict[str, str]]:
    if program("moto_server") is None:
        _needs("moto[server] is not installed")
    moto = start_moto(tmp_path)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto.port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    httpx.put(f"{env['AWS_ENDPOINT_URL']}/{BUCKET}", timeout=10).raise_for_status()
    yield env
    moto.stop()


@pytest.fixture
def pair(tmp_path: Path, database: str, s3: dict[str, str]) -> Iterator[tuple[Server, Server]]:
    env = {
        **s3,
        "DOCRELAY_API_KEY": API_KEY,
        "DOCRELAY_DATABASE_URL": database,
        "DOCRELAY_CRAWL_INTERVAL": "1",
        "DOCRELAY_AUTH": "both",
        "DOCRELAY_LINKS": "signed",
    }
    # One public URL for both, as behind a load balancer: here it reaches the first.
    port = free_port()
    env["DOCRELAY_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    root = f"s3://{BUCKET}/shared"  # a str: Path would fold the double slash
    first = Server(root, tmp_path / "one", env, port=port)
    second = Server(root, tmp_path / "two", env)
    yield first, second
    first.stop()
    second.stop()


def _call(server: Server, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
    headers = {**HEADERS, **kwargs.pop("headers", {})}
    return httpx.request(
        method, f"{server.url}/api/{endpoint}", headers=headers, timeout=30, **kwargs
    )


def test_an_upload_through_one_is_served_by_the_other(pair: tuple[Server, Server]) -> None:
    one, two = pair
    folder = _call(one, "POST", "createFolder", params={"name": "Shared"}).json()
    item = _call(
        one,
        "POST",
        "uploadInit",
        params={"parentId": folder["id"], "filename": "zq-scale plan.txt"},
    ).json()
    put = _call(one, "PUT", "upload", params={"id": item["id"]}, content=b"one content")
    assert put.json() == {"result": "success"}
    listed = _call(two, "GET", "files", params={"parentId": folder["id"]}).json()
    assert [entry["id"] for entry in listed] == [item["id"]]
    assert [
        entry["id"] for entry in _call(two, "GET", "search", params={"query": "zq-scale"}).json()
    ] == [item["id"]]
    assert _call(two, "GET", "download", params={"id": item["id"]}).content == b"one content"
    assert (
        _call(two, "GET", "metadata", params={"id": item["id"]}).json()
        == _call(one, "GET", "metadata", params={"id": item["id"]}).json()
    )
    # a rename through the second is seen by the first
    assert _call(two, "PUT", "rename", params={"id": item["id"], "name": "renamed.txt"}).json() == {
        "status": "success"
    }
    assert _call(one, "GET", "metadata", params={"id": item["id"]}).json()["title"] == "renamed.txt"


def _lease(engine: Any) -> tuple[str, float] | None:
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT value FROM server_values WHERE key = 'lease:crawler'")
        ).scalar()
    if not value:
        return None
    holder, until = value.split()
    return holder, float(until)


def _holders(engine: Any, seconds: float) -> set[str]:
    """The holders of an unexpired crawler lease seen over some seconds."""
    seen = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        lease = _lease(engine)
        if lease is not None and lease[1] > time.time():
            seen.add(lease[0])
        time.sleep(0.2)
    return seen


def test_one_crawler_at_a_time_and_a_stopped_one_is_replaced(
    pair: tuple[Server, Server], database: str
) -> None:
    engine = create_engine(database, poolclass=NullPool)
    try:
        assert len(_holders(engine, 4)) == 1  # both run; one crawls
        one, two = pair
        one.stop()  # a graceful stop releases its lease, if it held it
        time.sleep(2)  # the other's next crawl (every second) takes it over
        assert len(_holders(engine, 3)) == 1  # someone still crawls: the second
        two.stop()
        lease = _lease(engine)
        assert lease is not None and lease[1] < time.time()  # released: nobody crawls
    finally:
        engine.dispose()


def test_oauth_codes_and_tokens_work_across_instances(
    pair: tuple[Server, Server], database: str
) -> None:
    one, two = pair
    catalog = Database(database)
    try:
        client, secret = Clients(catalog).add("Workfront", REDIRECT)
        user = Users(catalog).add(NAME, PASSWORD)
    finally:
        catalog.dispose()
    with (
        httpx.Client(base_url=one.url, follow_redirects=False, timeout=30) as browser_one,
        httpx.Client(base_url=two.url, follow_redirects=False, timeout=30) as servers_two,
    ):
        at_one = Flow(browser_one, client, secret, user)  # type: ignore[arg-type]
        at_two = Flow(servers_two, client, secret, user)  # type: ignore[arg-type]
        code = at_one.code(client_id=client.id, redirect_uri=REDIRECT, response_type="code")
        exchanged = at_two.exchange(code, redirect_uri=REDIRECT)  # from one, exchanged at two
        assert exchanged.status_code == 200, exchanged.text
        tokens = exchanged.json()
        assert at_one.api(tokens["access_token"]).status_code == 200
        assert at_two.api(tokens["access_token"]).status_code == 200
        renewed = at_one.refresh(tokens["refresh_token"]).json()
        assert at_two.api(renewed["access_token"]).status_code == 200
        assert at_two.refresh(tokens["refresh_token"]).status_code == 400  # rotated away
