"""``/oauth/authorize`` and ``/oauth/token`` (SPEC.md §3) over ``docrelay.auth.oauth``.

The authorization page validates the request before anything else: a request for an
unknown client or a redirect URI that is not the client's gets an error page and is
never redirected. A valid one signs the user in if needed, then asks for consent; the
decision is posted back with the session's CSRF token and answered by a redirect to
the client, with ``code`` and ``state`` or with ``error=access_denied``.
"""

import logging
import re
from urllib.parse import urlsplit

import anyio.to_thread
from authlib.oauth2.rfc6749 import OAuth2Error
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from docrelay.auth.oauth import Consent, Incoming
from docrelay.auth.users import User
from docrelay.errors import BadRequest, DocrelayError, Forbidden, MethodNotAllowed
from docrelay.services import Services
from docrelay.web import render
from docrelay.web.forms import read_incoming
from docrelay.web.signin import EXPIRED, SignIn

log = logging.getLogger("docrelay.oauth")
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d+)?$|^https?://\[[0-9A-Fa-f:.]+\](:\d+)?$")


def _consent_policy(redirect_uri: str) -> str:
    """The pages' policy, letting the consent form's redirect reach the client."""
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    source = origin if _ORIGIN.match(origin) else f"{parts.scheme}:"
    return render.CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {source}"
    )


class OAuthPages:
    def __init__(self, services: Services, sign_in: SignIn) -> None:
        self.services = services
        self.server = services.accounts.oauth
        self.sign_in = sign_in
        self.base = services.settings.base_url()

    async def authorize(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD", "POST"):
            error = MethodNotAllowed(f"This page takes GET or POST, not {request.method}.")
            return render.error_page(error, {"Allow": "GET, HEAD, POST"})
        incoming = await read_incoming(request, self.base)
        try:
            consent = await anyio.to_thread.run_sync(self.server.validate, incoming)
        except OAuth2Error as error:
            return self._refused(error)
        session, user = await self.sign_in.current(request)
        if request.method == "POST":
            if user is None or not session.csrf_matches(incoming.body.get("csrf")):
                return self.sign_in.save(render.error_page(Forbidden(EXPIRED)), session)
            return await self._decide(incoming, consent, user)
        if user is None:
            return self.sign_in.to_sign_in(request)
        query = request.scope.get("query_string", b"").decode("latin-1")
        context = {
            "title": f"Connect {consent.client.name}",
            "client": consent.client.name,
            "user": user.name,
            "display_name": self.services.settings.display_name,
            "action": f"{self.base}/oauth/authorize" + (f"?{query}" if query else ""),
            "csrf": session.csrf,
            "account": self.sign_in.account(session, user),
        }
        response = render.page("consent.html", context)
        response.headers["Content-Security-Policy"] = _consent_policy(consent.client.redirect_uri)
        return self.sign_in.save(response, session)

    async def _decide(self, incoming: Incoming, consent: Consent, user: User) -> Response:
        allowed = incoming.body.get("decision") == "allow"
        grant_user = user if allowed else None
        response: Response = await anyio.to_thread.run_sync(self.server.decide, consent, grant_user)
        return response

    def _refused(self, error: OAuth2Error) -> Response:
        redirect = self.server.error_redirect(error)
        if redirect is not None:
            return redirect
        message = error.description or error.error or "The authorization request is not valid."
        error_text = f"This authorization request cannot be used: {message}"
        return render.error_page(BadRequest(error_text))

    async def token(self, request: Request) -> Response:
        if request.method != "POST":
            return _token_error(405, "The token endpoint takes POST.", {"Allow": "POST"})
        try:
            incoming = await read_incoming(request, self.base)
            response: Response = await anyio.to_thread.run_sync(self.server.token, incoming)
        except DocrelayError as error:
            return _token_error(error.status, error.message)
        except Exception:  # never a traceback to the client
            log.exception("The token endpoint failed")
            message = "docrelay failed; the server log says why."
            return _token_error(500, message, error="server_error")
        return response


def _token_error(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    error: str = "invalid_request",
) -> Response:
    body = {"error": error, "error_description": message}
    response = JSONResponse(body, status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def routes(services: Services) -> list[BaseRoute]:
    if services.settings.auth == "apikey":
        return []
    pages = OAuthPages(services, SignIn(services))

    async def authorize(request: Request) -> Response:
        try:
            response = await pages.authorize(request)
        except Exception as error:  # a page never answers bad input with a 500
            return render.failure_page(error)
        policy = response.headers.get("Content-Security-Policy")  # the consent page's own
        render.secure(response)
        if policy:
            response.headers["Content-Security-Policy"] = policy
        return response

    return [
        Route("/oauth/authorize", authorize, methods=_ANY_METHOD),
        Route("/oauth/token", pages.token, methods=_ANY_METHOD),
    ]
