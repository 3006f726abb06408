"""OAuth2 in-process (SPEC.md §3): the authorization page, every token error, PKCE, code
reuse and expiry, the three places of client credentials, rotation, revocation, and
bearer authentication on the API."""

import base64
import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oauth_helpers import (
    NAME,
    PASSWORD,
    REDIRECT,
    Flow,
    oauth_client,
    oauth_settings,
    open_flow,
    query_of,
)
from sqlalchemy import update

from docrelay.app import create_app
from docrelay.auth import tokens as tokens_module
from docrelay.catalog.schema import oauth_tokens
from docrelay.errors import DocrelayError


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[Flow]:
    with oauth_client(tmp_path) as http:
        yield open_flow(http)


def error_of(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return str(response.json()["error"])


# --- the authorization page ---------------------------------------------------------------


def test_workfront_sends_only_state(flow: Flow) -> None:
    first = flow.authorize(state="only-state")
    assert first.status_code == 303
    assert first.headers["location"].startswith("https://docrelay.test/signin?next=%2Foauth")
    page = flow.consent_page(state="only-state")
    assert "Workfront" in page.text and NAME in page.text
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' https://wf.example.com;" in policy
    answer = flow.decide(page)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?code=")
    assert query_of(location)["state"] == "only-state"


def test_the_standard_parameters(flow: Flow) -> None:
    params = {
        "client_id": flow.client.id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "documents",
        "state": "a b&c=d/é",
    }
    code = flow.code(**params)
    # the redirect URI was sent, so the token request must send the same one
    assert error_of(flow.exchange(code)) == "invalid_grant"
    code = flow.code(**params)
    answer = flow.exchange(code, redirect_uri=REDIRECT)
    assert answer.status_code == 200, answer.text


def test_the_token_answer_is_exactly_the_spec(flow: Flow) -> None:
    answer = flow.exchange(flow.code())
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert body["expires_in"] == 3600 and isinstance(body["expires_in"], int)
    assert body["token_type"] == "Bearer"
    assert answer.headers["cache-control"] == "no-store"
    assert flow.api(body["access_token"]).status_code == 200


def test_refusal_redirects_with_access_denied(flow: Flow) -> None:
    answer = flow.decide(flow.consent_page(state="no thanks"), "deny")
    assert answer.status_code == 302
    query = query_of(answer.headers["location"])
    assert query["error"] == "access_denied" and query["state"] == "no thanks"
    assert "code" not in query
    assert answer.headers["location"].startswith(REDIRECT + "?")


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "drc_unknown", "state": "x"},
        {"redirect_uri": "https://evil.example/callback", "state": "x"},
        {"redirect_uri": REDIRECT + "/", "state": "x"},  # exact match only
    ],
)
def test_a_bad_client_or_redirect_uri_gets_a_page_never_a_redirect(
    flow: Flow, params: dict[str, str]
) -> None:
    if "redirect_uri" in params:
        params["client_id"] = flow.client.id
    answer = flow.authorize(**params)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")
    assert "cannot be used" in answer.text


def test_an_unsupported_response_type_is_reported_to_the_client(flow: Flow) -> None:
    answer = flow.authorize(client_id=flow.client.id, response_type="token", state="t")
    assert answer.status_code == 302
    query = query_of(answer.headers["location"])
    assert query["error"] == "unsupported_response_type" and query["state"] == "t"
    assert answer.headers["location"].startswith(REDIRECT + "?")


def test_the_default_client(tmp_path: Path) -> None:
    with oauth_client(tmp_path) as http:
        flow = open_flow(http)
        other, _secret = flow.services.accounts.clients.add("Other", "https://other.example/cb")
        answer = flow.authorize(state="s")  # two clients and no setting: which one?
        assert answer.status_code == 400 and "no default client" in answer.text
    with oauth_client(tmp_path, oauth_default_client=other.id) as http:
        page = Flow(http, other, "", flow.user).consent_page(state="s")
        assert "Connect Other" in page.text


def test_the_consent_form_needs_its_csrf_token(flow: Flow) -> None:
    page = flow.consent_page(state="s")
    from oauth_helpers import action_of

    forged = flow.http.post(action_of(page.text), data={"csrf": "forged", "decision": "allow"})
    assert forged.status_code == 403 and "location" not in forged.headers
    missing = flow.http.post(action_of(page.text), data={"decision": "allow"})
    assert missing.status_code == 403


def test_oauth_needs_https_or_loopback(tmp_path: Path) -> None:
    with pytest.raises(DocrelayError, match="https"):
        create_app(oauth_settings(tmp_path, public_url="http://docrelay.test"))
    create_app(oauth_settings(tmp_path, public_url="http://127.0.0.1:8080"))


# --- the token endpoint --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["basic", "body", "query"])
def test_client_credentials_in_basic_body_or_query(flow: Flow, how: str) -> None:
    answer = flow.exchange(flow.code(), how)
    assert answer.status_code == 200, answer.text
    refreshed = flow.refresh(answer.json()["refresh_token"], how)
    assert refreshed.status_code == 200, refreshed.text


def test_every_parameter_may_come_in_the_query(flow: Flow) -> None:
    params = {
        "grant_type": "authorization_code",
        "code": flow.code(),
        "client_id": flow.client.id,
        "client_secret": flow.secret,
    }
    answer = flow.http.post("/oauth/token", params=params)
    assert answer.status_code == 200, answer.text


def test_token_errors(flow: Flow) -> None:
    code = flow.code()
    cases: list[tuple[dict[str, str], str, int]] = [
        ({}, "invalid_request", 400),
        ({"grant_type": "password", "username": NAME, "password": PASSWORD}, "", 400),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type", 400),
        ({"grant_type": "authorization_code"}, "invalid_request", 400),
        ({"grant_type": "authorization_code", "code": "nonsense"}, "invalid_grant", 400),
        ({"grant_type": "refresh_token"}, "invalid_request", 400),
        ({"grant_type": "refresh_token", "refresh_token": "drr_x"}, "invalid_grant", 400),
    ]
    for data, error, status in cases:
        answer = flow.token(data)
        assert answer.status_code == status, (data, answer.text)
        assert error_of(answer) == (error or "unsupported_grant_type"), data
    assert flow.exchange(code).status_code == 200  # none of that spent the code


def test_client_authentication_errors(flow: Flow) -> None:
    code = flow.code()
    data = {"grant_type": "authorization_code", "code": code}
    nobody = flow.http.post("/oauth/token", data=data)
    assert nobody.status_code == 401 and error_of(nobody) == "invalid_client"
    assert nobody.headers["www-authenticate"].startswith("Basic ")
    wrong = flow.http.post("/oauth/token", data=data, headers=flow.basic(secret="drs_wrong"))
    assert error_of(wrong) == "invalid_client"
    unknown = flow.http.post(
        "/oauth/token", data={**data, "client_id": "drc_nobody", "client_secret": flow.secret}
    )
    assert error_of(unknown) == "invalid_client"
    assert flow.exchange(code).status_code == 200


def test_a_code_of_another_client_is_invalid(flow: Flow) -> None:
    code = flow.code()
    other, secret = flow.services.accounts.clients.add("Other", "https://other.example/cb")
    data = {"grant_type": "authorization_code", "code": code}
    answer = flow.http.post("/oauth/token", data=data, headers=flow.basic(other.id, secret))
    assert error_of(answer) == "invalid_grant"


def test_the_token_endpoint_takes_post_only(flow: Flow) -> None:
    answer = flow.http.get("/oauth/token")
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert error_of(answer) == "invalid_request"


def test_a_code_works_once_and_its_reuse_revokes_its_tokens(flow: Flow) -> None:
    code = flow.code()
    first = flow.exchange(code)
    assert first.status_code == 200
    again = flow.exchange(code)
    assert again.status_code == 400 and error_of(again) == "invalid_grant"
    assert flow.api(first.json()["access_token"]).status_code == 403
    assert error_of(flow.refresh(first.json()["refresh_token"])) == "invalid_grant"


def test_a_code_expires(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens_module, "CODE_SECONDS", -1)
    answer = flow.exchange(flow.code())
    assert answer.status_code == 400 and error_of(answer) == "invalid_grant"


def _s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def test_pkce(flow: Flow) -> None:
    verifier = "v" * 20 + "-._~" + "0123456789" * 3
    pkce = {"code_challenge": _s256(verifier), "code_challenge_method": "S256"}
    assert flow.exchange(flow.code(**pkce), code_verifier=verifier).status_code == 200
    wrong = flow.exchange(flow.code(**pkce), code_verifier="w" * 50)
    assert error_of(wrong) == "invalid_grant"
    missing = flow.exchange(flow.code(**pkce))
    assert error_of(missing) == "invalid_request"
    plain = {"code_challenge": verifier, "code_challenge_method": "plain"}
    assert flow.exchange(flow.code(**plain), code_verifier=verifier).status_code == 200
    unasked = flow.exchange(flow.code(), code_verifier=verifier)
    assert error_of(unasked) == "invalid_request"
    bad = flow.authorize(client_id=flow.client.id, code_challenge="short", state="p")
    assert query_of(bad.headers["location"])["error"] == "invalid_request"


def test_refresh_tokens_rotate_and_a_replay_revokes_the_family(flow: Flow) -> None:
    first = flow.tokens_for()
    second = flow.refresh(first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert set(second) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert flow.api(second["access_token"]).status_code == 200
    other_family = flow.tokens_for()
    replay = flow.refresh(first["refresh_token"])
    assert replay.status_code == 400 and error_of(replay) == "invalid_grant"
    assert flow.api(second["access_token"]).status_code == 403
    assert error_of(flow.refresh(second["refresh_token"])) == "invalid_grant"
    assert flow.api(other_family["access_token"]).status_code == 200  # another grant


def test_a_refresh_token_of_another_client_is_invalid(flow: Flow) -> None:
    tokens = flow.tokens_for()
    other, secret = flow.services.accounts.clients.add("Other", "https://other.example/cb")
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    answer = flow.http.post("/oauth/token", data=data, headers=flow.basic(other.id, secret))
    assert error_of(answer) == "invalid_grant"


# --- bearer tokens on the API --------------------------------------------------------------


def _expire(flow: Flow) -> None:
    with flow.services.catalog.db.write() as connection:
        connection.execute(update(oauth_tokens).values(expires_at=time.time() - 1))


@pytest.mark.parametrize(
    ("method", "endpoint", "body"),
    [
        ("GET", "files", {"status": "error"}),
        ("PUT", "upload?id=x", {"result": "fail"}),
        ("PUT", "delete?id=x", {"status": "failure"}),
    ],
)
def test_a_missing_expired_or_revoked_token_is_403(
    flow: Flow, method: str, endpoint: str, body: dict[str, str]
) -> None:
    tokens = flow.tokens_for()
    for presented in (None, "dra_forged", tokens["refresh_token"]):
        answer = flow.api(presented, endpoint, method)
        assert answer.status_code == 403
        assert body.items() <= answer.json().items()
    _expire(flow)
    assert flow.api(tokens["access_token"], endpoint, method).status_code == 403
    fresh = flow.refresh(tokens["refresh_token"]).json()
    assert flow.api(fresh["access_token"]).status_code == 200
    flow.services.accounts.tokens.revoke_user(flow.user.pk)
    answer = flow.api(fresh["access_token"], endpoint, method)
    assert answer.status_code == 403 and body.items() <= answer.json().items()
    assert error_of(flow.refresh(fresh["refresh_token"])) == "invalid_grant"


def test_the_access_token_lifetime_is_a_setting(tmp_path: Path) -> None:
    with oauth_client(tmp_path, oauth_access_token_seconds=90) as http:
        assert open_flow(http).tokens_for()["expires_in"] == 90


def test_service_info_stays_open_and_api_keys_do_not_work_in_oauth2_mode(tmp_path: Path) -> None:
    with oauth_client(tmp_path, api_key="key-0123456789") as http:
        assert http.get("/api/serviceInfo").status_code == 200
        headers = {"apiKey": "key-0123456789", "username": NAME}
        assert http.get("/api/files", headers=headers).status_code == 403


def test_both_modes(tmp_path: Path) -> None:
    with oauth_client(tmp_path, auth="both", api_key="key-0123456789") as http:
        flow = open_flow(http)
        headers = {"apiKey": "key-0123456789", "username": NAME}
        assert http.get("/api/files", headers=headers).status_code == 200
        assert flow.api(flow.tokens_for()["access_token"]).status_code == 200
        # a bearer token that is not valid is not rescued by a key
        forged = {**headers, "Authorization": "Bearer dra_forged"}
        assert http.get("/api/files", headers=forged).status_code == 403


def test_apikey_mode_has_no_oauth(tmp_path: Path) -> None:
    with oauth_client(tmp_path, auth="apikey", api_key="key-0123456789") as http:
        assert http.get("/oauth/authorize", params={"state": "s"}).status_code == 404
        assert http.post("/oauth/token").status_code == 404
        assert http.get("/api/files", headers={"Authorization": "Bearer x"}).status_code == 403


def test_the_token_subject_is_the_acting_user(tmp_path: Path) -> None:
    rules = [{"users": "*@readers.example", "access": "read-only"}]
    with oauth_client(tmp_path, access=rules) as http:
        flow = open_flow(http, read_only=True)
        token = flow.tokens_for()["access_token"]
        made = flow.http.post(
            "/api/createFolder",
            params={"parentId": "/", "name": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 403  # added --read-only: whatever the rules say
        listed = flow.api(token, "metadata?id=/")
        assert listed.json()["readOnly"] is True
        users = flow.services.accounts.users
        users.add("ann@readers.example", PASSWORD)
        reader = Flow(http, flow.client, flow.secret, users.find("ann@readers.example"))  # type: ignore[arg-type]
        http.cookies.clear()
        code = reader.decide(_consent_as(reader, "ann@readers.example"))
        token = reader.exchange(query_of(code.headers["location"])["code"]).json()["access_token"]
        assert reader.api(token, "metadata?id=/").json()["readOnly"] is True


def _consent_as(flow: Flow, name: str) -> Any:
    page = flow.authorize(state="s")
    target = query_of(page.headers["location"])["next"]
    signed = flow.sign_in(target, name=name)
    return flow.http.get(signed.headers["location"])


def test_the_log_holds_no_password_code_or_token(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = flow.code(state="secret-state")
    tokens = flow.exchange(code).json()
    flow.api(tokens["access_token"])
    flow.refresh(tokens["refresh_token"])
    # what docrelay and Authlib log (the test's own HTTP client logs its URLs)
    text = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    )
    assert "/oauth/token" in text and NAME in text
    for secret in (PASSWORD, code, tokens["access_token"], tokens["refresh_token"], flow.secret):
        assert secret not in text
    assert "secret-state" not in text
