"""Users, clients and tokens from the CLI; signing in (sessions, CSRF, lockout, no open
redirects); and the pages behind viewLink and downloadLink with ``links = "sign-in"``."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import API_KEY, Workfront
from oauth_helpers import NAME, PASSWORD, PUBLIC, Flow, csrf_of, oauth_client, open_flow, query_of
from sqlalchemy import select, update
from starlette.testclient import TestClient
from typer.testing import CliRunner

from docrelay.catalog.db import Database
from docrelay.catalog.schema import oauth_clients
from docrelay.catalog.schema import users as users_table
from docrelay.cli import app
from docrelay.config import load_settings
from docrelay.web import signin

runner = CliRunner()


def stored(tmp_path: Path, table: Any) -> list[Any]:
    """The rows of a table of the catalog the CLI used (SQLite or PostgreSQL)."""
    settings, _origins = load_settings({"data_dir": tmp_path / "data"})
    database = Database(settings.catalog_url())
    try:
        with database.read() as connection:
            return list(connection.execute(select(table)).all())
    finally:
        database.dispose()


def cli(tmp_path: Path, *args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, [*args, "--data-dir", str(tmp_path / "data")], input=stdin)


# --- the CLI -------------------------------------------------------------------------------


def test_users_add_list_passwd_remove(tmp_path: Path) -> None:
    added = cli(
        tmp_path,
        "users",
        "add",
        NAME,
        "--email",
        "g@x.example",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    reader = cli(
        tmp_path, "users", "add", "Reader", "--read-only", stdin="pw-pw-pw-pw\npw-pw-pw-pw\n"
    )
    assert reader.exit_code == 0, reader.output  # asked for twice at the prompt
    assert "read-only" in reader.output
    listed = cli(tmp_path, "users", "list")
    assert NAME in listed.output and "g@x.example" in listed.output and "Reader" in listed.output
    assert PASSWORD not in listed.output
    again = cli(tmp_path, "users", "add", NAME.upper(), "--password-stdin", stdin="another-one\n")
    assert again.exit_code == 1 and "already" in again.output
    short = cli(tmp_path, "users", "add", "shorty", "--password-stdin", stdin="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    changed = cli(tmp_path, "users", "passwd", NAME, "--password-stdin", stdin="a new password\n")
    assert changed.exit_code == 0, changed.output
    assert (
        cli(tmp_path, "users", "passwd", "nobody", "--password-stdin", stdin="x" * 9).exit_code == 1
    )
    assert cli(tmp_path, "users", "remove", "reader").exit_code == 0  # names fold case
    assert "Reader" not in cli(tmp_path, "users", "list").output
    assert cli(tmp_path, "users", "remove", "reader").exit_code == 1


def test_passwords_are_kept_as_argon2_hashes(tmp_path: Path) -> None:
    cli(tmp_path, "users", "add", NAME, "--password-stdin", stdin=PASSWORD + "\n")
    (row,) = stored(tmp_path, users_table)
    assert row.password_hash.startswith("$argon2id$")
    assert all(PASSWORD not in str(value) for value in row)


def test_clients_add_list_remove(tmp_path: Path) -> None:
    redirect = "https://example.my.workfront.com/oauth/callback"
    added = cli(tmp_path, "clients", "add", "--name", "Workfront", "--redirect-uri", redirect)
    assert added.exit_code == 0, added.output
    fields = dict(
        line.strip().split(":", 1) for line in added.output.splitlines() if line.startswith("  ")
    )
    client_id, secret = fields["Client ID"].strip(), fields["Client Secret"].strip()
    assert client_id.startswith("drc_") and secret.startswith("drs_")
    assert fields["Authentication URL"].strip().endswith("/oauth/authorize")
    assert fields["Token Endpoint URL"].strip().endswith("/oauth/token")
    listed = cli(tmp_path, "clients", "list")
    assert client_id in listed.output and redirect in listed.output and secret not in listed.output
    (row,) = stored(tmp_path, oauth_clients)
    assert row.secret_hash.startswith("$argon2id$")
    assert all(secret not in str(value) for value in row)
    bad = cli(tmp_path, "clients", "add", "--redirect-uri", "not a url")
    assert bad.exit_code == 1
    assert cli(tmp_path, "clients", "remove", client_id).exit_code == 0
    assert cli(tmp_path, "clients", "remove", client_id).exit_code == 1


def test_tokens_list_and_revoke(tmp_path: Path) -> None:
    with oauth_client(tmp_path) as http:
        flow = open_flow(http)
        tokens = flow.tokens_for()
        listed = cli(tmp_path, "tokens", "list")
        assert NAME in listed.output and "Workfront" in listed.output
        assert tokens["access_token"] not in listed.output
        revoked = cli(tmp_path, "tokens", "revoke", "--user", NAME)
        assert revoked.exit_code == 0 and "Revoked 1" in revoked.output, revoked.output
        assert flow.api(tokens["access_token"]).status_code == 403
        assert flow.refresh(tokens["refresh_token"]).status_code == 400
        assert NAME not in cli(tmp_path, "tokens", "list").output
    assert cli(tmp_path, "tokens", "revoke", "--user", "nobody").exit_code == 1


# --- signing in ----------------------------------------------------------------------------


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[Flow]:
    with oauth_client(tmp_path) as http:
        yield open_flow(http)


def test_the_session_cookie(flow: Flow) -> None:
    page = flow.http.get("/signin")
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert 'name="csrf"' in page.text and 'autocomplete="current-password"' in page.text
    signed = flow.sign_in()
    assert signed.status_code == 303 and signed.headers["location"] == PUBLIC + "/signin"
    assert "Secure" in signed.headers["set-cookie"]
    assert NAME in flow.http.get("/signin").text


def test_no_secure_cookie_over_plain_http_to_loopback(tmp_path: Path) -> None:
    with oauth_client(tmp_path, public_url="http://127.0.0.1:8080") as http:
        cookie = http.get("/signin").headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" not in cookie


def test_a_failed_sign_in_is_slow_and_says_nothing_of_the_name(flow: Flow) -> None:
    started = time.monotonic()
    wrong = flow.sign_in(password="not the password")
    assert time.monotonic() - started >= signin.FAILED_DELAY
    unknown = flow.sign_in(name="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 403
    assert signin.FAILED in wrong.text and signin.FAILED in unknown.text
    assert "nobody@example.com" in unknown.text  # the name stays in the form


def test_repeated_failures_lock_the_account(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signin, "FAILED_DELAY", 0)
    for _attempt in range(5):
        assert flow.sign_in(password="wrong password").status_code == 403
    assert flow.sign_in().status_code == 403  # the right password, but locked
    with flow.services.catalog.db.write() as connection:
        connection.execute(update(users_table).values(locked_until=time.time() - 1))
    assert flow.sign_in().status_code == 303
    for _attempt in range(4):
        flow.sign_in(password="wrong password")
    assert flow.sign_in().status_code == 303  # a success resets the count
    with flow.services.catalog.db.read() as connection:
        assert connection.execute(select(users_table.c.failed_count)).scalar_one() == 0


@pytest.mark.parametrize("csrf", [None, "", "forged"])
def test_sign_in_refuses_a_form_without_its_csrf_token(flow: Flow, csrf: str | None) -> None:
    flow.http.get("/signin")
    data = {"name": NAME, "password": PASSWORD}
    if csrf is not None:
        data["csrf"] = csrf
    answer = flow.http.post("/signin", data=data)
    assert answer.status_code == 403 and "expired" in answer.text
    assert "location" not in answer.headers


def test_a_form_from_another_session_is_refused(flow: Flow) -> None:
    token = csrf_of(flow.http.get("/signin").text)
    flow.http.cookies.clear()
    answer = flow.http.post("/signin", data={"csrf": token, "name": NAME, "password": PASSWORD})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/view/x\r\nLocation: https://evil.example",
        "evil.example",
    ],
)
def test_no_open_redirect_after_sign_in(flow: Flow, target: str) -> None:
    answer = flow.sign_in(target)
    assert answer.status_code == 303
    assert answer.headers["location"] == PUBLIC + "/signin"


def test_sign_in_goes_back_to_the_page_asked_for(flow: Flow) -> None:
    answer = flow.sign_in("/view/%2F?x=1")
    assert answer.headers["location"] == PUBLIC + "/view/%2F?x=1"
    again = flow.http.get("/signin", params={"next": "/view/abc"})
    assert again.status_code == 303 and again.headers["location"] == PUBLIC + "/view/abc"


def test_sign_out(flow: Flow) -> None:
    flow.sign_in()
    page = flow.http.get("/view/%2F")
    assert page.status_code == 200 and "Sign out" in page.text
    assert flow.http.post("/signout", data={"csrf": "forged"}).status_code == 403
    out = flow.http.post("/signout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == PUBLIC + "/signin"
    assert flow.http.get("/view/%2F").status_code == 303


def test_a_new_password_or_removal_ends_the_sessions(flow: Flow) -> None:
    flow.sign_in()
    assert flow.http.get("/view/%2F").status_code == 200
    flow.services.accounts.users.set_password(NAME, "another password")
    assert flow.http.get("/view/%2F").status_code == 303
    flow.sign_in(password="another password")
    assert flow.http.get("/view/%2F").status_code == 200
    flow.services.accounts.users.remove(NAME)
    assert flow.http.get("/view/%2F").status_code == 303


def test_a_tampered_cookie_is_no_session(flow: Flow) -> None:
    flow.sign_in()
    value = flow.http.cookies["docrelay_session"]
    flow.http.cookies.clear()
    flow.http.cookies.set("docrelay_session", value[:-2] + "xx", domain="docrelay.test")
    assert flow.http.get("/view/%2F").status_code == 303


# --- the pages with links = "sign-in" ------------------------------------------------------


@pytest.fixture
def signed_in_pages(tmp_path: Path) -> Iterator[tuple[Workfront, Flow]]:
    """ApiKey mode for Workfront's calls, sign-in for the pages."""
    with oauth_client(tmp_path, auth="apikey", api_key=API_KEY, links="sign-in") as http:
        yield Workfront(http, tmp_path / "documents"), open_flow(http)


def test_links_carry_no_signature_and_ask_for_a_sign_in(signed_in_pages: Any) -> None:
    wf, flow = signed_in_pages
    folder = wf.folder("/", "Plans")
    item = wf.upload(folder["id"], "plan.txt", b"the plan")
    meta = wf.metadata(item["id"])
    assert "sig=" not in meta["viewLink"] and "sig=" not in meta["downloadLink"]
    for link in (meta["viewLink"], meta["downloadLink"]):
        answer = flow.http.get(link)
        assert answer.status_code == 303
        next_page = query_of(answer.headers["location"])["next"]
        assert PUBLIC + next_page == link
    signature = flow.services.links.signature("download", item["id"])
    assert flow.http.get(f"{meta['downloadLink']}?sig={signature}").status_code == 303
    flow.sign_in()
    page = flow.http.get(meta["viewLink"])
    assert page.status_code == 200 and "plan.txt" in page.text
    assert flow.http.get(meta["downloadLink"]).content == b"the plan"
    thumbnail = flow.http.get(f"{PUBLIC}/thumbnail/{item['id']}?size=64")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/png"


def test_folder_pages_get_breadcrumbs(signed_in_pages: Any) -> None:
    wf, flow = signed_in_pages
    projects = wf.folder("/", "Projects")
    year = wf.folder(projects["id"], "2024")
    wf.upload(year["id"], "report.txt", b"r")
    flow.sign_in()
    page = flow.http.get(wf.metadata(year["id"])["viewLink"])
    assert 'aria-label="Folders above"' in page.text
    assert f'href="{PUBLIC}/view/%2F">Documents</a>' in page.text
    assert f'href="{wf.metadata(projects["id"])["viewLink"]}">Projects</a>' in page.text
    assert "report.txt" in page.text
    root = flow.http.get(f"{PUBLIC}/view/%2F")
    assert 'aria-label="Folders above"' not in root.text  # nothing above the root


def test_signed_links_show_no_folders_above(wf: Workfront) -> None:
    folder = wf.folder("/", "Projects")
    inner = wf.folder(folder["id"], "Inner")
    page = wf.client.get(wf.metadata(inner["id"])["viewLink"])
    assert page.status_code == 200 and "Folders above" not in page.text


def test_signed_in_visitors_see_only_their_roots(tmp_path: Path) -> None:
    shared, secret = tmp_path / "shared", tmp_path / "secret"
    shared.mkdir()
    secret.mkdir()
    (secret / "salaries.txt").write_bytes(b"$$$")
    roots = [{"name": "Shared", "url": str(shared)}, {"name": "Secret", "url": str(secret)}]
    rules = [{"users": NAME, "access": "none", "roots": ["Secret"]}]
    with oauth_client(tmp_path, roots=roots, access=rules) as http:
        flow = open_flow(http)
        flow.sign_in()
        top = flow.http.get(f"{PUBLIC}/view/%2F")
        assert top.status_code == 200 and "Shared" in top.text and "Secret" not in top.text
        catalog = flow.services.catalog
        hidden = next(item for item in catalog.children("/") if item.title == "Secret")
        salaries = catalog.children(hidden.id)[0]
        for purpose, item in (("view", hidden), ("view", salaries), ("download", salaries)):
            answer = flow.http.get(f"{PUBLIC}/{purpose}/{item.id}")
            assert answer.status_code == 404 and b"$$$" not in answer.content


def test_signed_in_page_and_head_requests(flow: Flow) -> None:
    assert flow.http.head("/view/%2F").status_code == 303
    flow.sign_in()
    assert flow.http.head("/view/%2F").status_code == 200
    assert flow.http.put("/view/%2F").status_code == 405
    assert flow.http.put("/signin").status_code == 405


def test_the_sign_in_pages_exist_only_when_used(client: TestClient) -> None:
    assert client.get("/signin").status_code == 404
    assert client.get("/oauth/authorize").status_code == 404
