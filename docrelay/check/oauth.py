"""The OAuth2 authorization-code handshake, played as a browser and Workfront play it.

The browser asks ``/oauth/authorize``, signs in on docrelay's form (with its CSRF
token), allows on the consent page, and is sent to the Workfront Redirect URI; that
redirect is captured, never followed. Workfront then exchanges the code at
``/oauth/token`` and, later, the refresh token. No code, token or secret is ever part
of a reason.
"""

import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from docrelay.check.forms import Form, page_message, post_forms
from docrelay.check.logins import OAuthLogin
from docrelay.check.runner import StepFailed
from docrelay.check.state import State, Tokens
from docrelay.check.target import error_text, json_of

_REDIRECTS = (301, 302, 303, 307, 308)


def _login(state: State) -> OAuthLogin:
    assert isinstance(state.login, OAuthLogin)
    return state.login


def _off_site(state: State, url: str, what: str) -> StepFailed:
    parts = urlsplit(url)
    return StepFailed(
        f"{what} points to {parts.scheme}://{parts.netloc} but the server was reached at "
        f"{state.target.public}; set public_url to the address Workfront and browsers use"
    )


def _at(location: str, redirect_uri: str) -> bool:
    """Whether ``location`` is the Redirect URI (with docrelay's query added)."""

    def bare(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.netloc.lower(), parts.path

    return bare(location) == bare(redirect_uri)


def _follow(state: State, response: httpx.Response, redirect_uri: str) -> httpx.Response:
    """Follow docrelay's own redirects; stop at one to the Workfront Redirect URI."""
    for _hop in range(6):
        if response.status_code not in _REDIRECTS:
            return response
        location = urljoin(str(response.url), response.headers.get("location", ""))
        if _at(location, redirect_uri):
            return response
        if not state.target.same_origin(location):
            raise _off_site(state, location, "the authorization page's redirect")
        response = state.browser.request("GET", location)
    raise StepFailed("the authorization page redirects in a loop")


def _form(page: httpx.Response, state: State, what: str, wanted: Callable[[Form], bool]) -> Form:
    """The form of the page that ``wanted`` picks (not the sign-out form of its bar)."""
    form = next((form for form in post_forms(page.text) if wanted(form)), None)
    if page.status_code != 200 or form is None:
        raise StepFailed(f"{what} answered {page.status_code}: {page_message(page.text)}")
    if not state.target.same_origin(urljoin(str(page.url), form.action)):
        raise _off_site(state, form.action, f"the form of {what}")
    if "csrf" not in form.fields:
        raise StepFailed(f"the form of {what} carries no CSRF token")
    return form


def _submit(state: State, page: httpx.Response, form: Form, values: dict[str, str]) -> Any:
    action = urljoin(str(page.url), form.action)
    return state.browser.request("POST", action, data={**form.fields, **values})


def _sign_in(state: State, page: httpx.Response, redirect_uri: str) -> httpx.Response:
    login = _login(state)
    form = _form(page, state, "the sign-in page", lambda form: form.asks_password)
    answer = _submit(state, page, form, {"name": login.user, "password": login.password})
    if answer.status_code not in _REDIRECTS:
        why = page_message(answer.text)
        raise StepFailed(f"signing in as {login.user!r} failed ({answer.status_code}): {why}")
    return _follow(state, answer, redirect_uri)


def _allows(form: Form) -> bool:
    return "allow" in form.buttons.get("decision", [])


def sign_in_and_consent(state: State) -> str:
    """Sign in, allow, and capture the code sent to the Workfront Redirect URI."""
    login = _login(state)
    sent_state = f"docrelay-check/{secrets.token_urlsafe(9)} ok"
    params = {
        "response_type": "code",
        "client_id": login.client_id,
        "redirect_uri": login.redirect_uri,
        "state": sent_state,
    }
    first = state.browser.request("GET", f"{state.target.public}/oauth/authorize", params=params)
    if first.status_code == 404:
        raise StepFailed("/oauth/authorize answered 404: the server does not serve OAuth2")
    page = _follow(state, first, login.redirect_uri)
    signed_in = False
    if page.status_code == 200 and any(form.asks_password for form in post_forms(page.text)):
        page, signed_in = _sign_in(state, page, login.redirect_uri), True
    consent = _form(page, state, "the authorization page", _allows)
    answer = _follow(
        state, _submit(state, page, consent, {"decision": "allow"}), login.redirect_uri
    )
    _capture_code(state, answer, sent_state)
    how = f"signed in as {login.user!r}, " if signed_in else ""
    return f"{how}allowed; redirected to the Redirect URI with a code and the same state"


def _capture_code(state: State, answer: httpx.Response, sent_state: str) -> None:
    redirect_uri = _login(state).redirect_uri
    location = answer.headers.get("location", "")
    if answer.status_code not in _REDIRECTS or not _at(location, redirect_uri):
        why = page_message(answer.text)
        raise StepFailed(
            f"allowing did not redirect to the Redirect URI ({answer.status_code}: {why})"
        )
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    if "error" in query:
        raise StepFailed(f"the redirect carries error={query['error']}")
    if query.get("state") != sent_state:
        raise StepFailed("the redirect did not bring back the state sent, unchanged")
    if not query.get("code"):
        raise StepFailed("the redirect carries no code")
    state.code = query["code"]


def _token_call(state: State, grant: dict[str, str]) -> httpx.Response:
    login = _login(state)
    pair = {"client_id": login.client_id, "client_secret": login.client_secret}
    url = f"{state.target.public}/oauth/token"
    return state.http.request("POST", url, data={**grant, **pair})


def _tokens_of(response: httpx.Response, what: str) -> tuple[Tokens, Any]:
    if response.status_code == 401:
        raise StepFailed(f"{what} refused the client id or secret: 401 ({error_text(response)})")
    if response.status_code != 200:
        raise StepFailed(f"{what} answered {response.status_code} ({error_text(response)})")
    body = json_of(response, what)
    if not isinstance(body, dict):
        raise StepFailed(f"{what} answered no JSON object")
    access, refresh = body.get("access_token"), body.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise StepFailed(f"{what} gave no access_token and refresh_token")
    if str(body.get("token_type", "")).lower() != "bearer":
        raise StepFailed(f"{what} gave token_type {body.get('token_type')!r}, not Bearer")
    expires = body.get("expires_in")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise StepFailed(f"{what}: expires_in {expires!r} is not a number")
    return Tokens(access, refresh), expires


def exchange_code(state: State) -> str:
    code, state.code = state.code, None
    if code is None:
        raise StepFailed("no code was captured")
    grant = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _login(state).redirect_uri,
    }
    tokens, expires = _tokens_of(_token_call(state, grant), "/oauth/token")
    state.tokens = tokens
    state.headers = {"Authorization": f"Bearer {tokens.access}"}
    return f"the code gave a bearer token pair (expires_in {expires:g} s)"


def refresh(state: State) -> str:
    """A new pair for the refresh token; the new access token works; the used refresh
    token is refused from then on (docrelay then ends the connection, by design)."""
    assert state.tokens is not None
    old = state.tokens.refresh
    grant = {"grant_type": "refresh_token", "refresh_token": old}
    tokens, _expires = _tokens_of(_token_call(state, grant), "the refresh at /oauth/token")
    state.tokens = tokens
    state.headers = {"Authorization": f"Bearer {tokens.access}"}
    used = state.call("GET", "metadata", params={"id": "/"})
    if used.status_code not in (200, 503):
        raise StepFailed(f"the refreshed access token was refused ({used.status_code})")
    again = _token_call(state, grant)
    if again.status_code == 200:
        raise StepFailed("the used refresh token was accepted again: it must work once")
    if again.status_code != 400:
        raise StepFailed(f"the used refresh token got {again.status_code}, not 400")
    said = error_text(again)
    return f"a new pair; the new access token works; the used refresh token gets 400 ({said})"
