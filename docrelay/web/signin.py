"""Signing in to docrelay's pages: ``/signin`` and ``/signout``, and the gate that sends
a visitor who is not signed in to sign in and then back to the page asked for.

A failed sign-in is answered only after ``FAILED_DELAY`` seconds, and the account is
locked after repeated failures (``docrelay.auth.users``); the answer never tells
whether the name exists. Every form carries the session's CSRF token.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from docrelay.auth.accounts import uses_sign_in
from docrelay.auth.sessions import Session
from docrelay.auth.users import LOCK_SECONDS, MAX_FAILURES, User
from docrelay.catalog.items import ROOT_ID
from docrelay.errors import Forbidden, MethodNotAllowed
from docrelay.services import Services
from docrelay.web import render
from docrelay.web.forms import read_body, safe_next, this_page

Handler = Callable[[Request], Awaitable[Response]]
FAILED_DELAY = 0.5
FAILED = (
    f"The name or password is wrong. After {MAX_FAILURES} failed attempts an account is "
    f"locked for {LOCK_SECONDS // 60} minutes."
)
EXPIRED = "The form has expired. Go back, reload the page and try again."


class SignIn:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.accounts = services.accounts
        self.base = services.settings.base_url()

    async def current(self, request: Request) -> tuple[Session, User | None]:
        """The request's session and its signed-in user, if any."""
        session = self.accounts.sessions.load(request)
        user = None
        if session.user_pk is not None:
            user = await anyio.to_thread.run_sync(self.accounts.signed_in, session)
        if user is not None:
            request.scope.setdefault("state", {})["docrelay_user"] = user.name
        return session, user

    def account(self, session: Session, user: User | None) -> dict[str, str] | None:
        """What the pages' bar shows of the signed-in user, with the sign-out form."""
        if user is None:
            return None
        return {"name": user.name, "csrf": session.csrf, "signout_url": f"{self.base}/signout"}

    def to_sign_in(self, request: Request) -> Response:
        target = f"{self.base}/signin?next={quote(this_page(request), safe='')}"
        return RedirectResponse(target, status_code=303)

    def save(self, response: Response, session: Session) -> Response:
        return self.accounts.sessions.save(response, session)

    def _form(
        self, session: Session, next_page: str | None, error: str | None = None, name: str = ""
    ) -> Response:
        context = {
            "title": "Sign in",
            "display_name": self.services.settings.display_name,
            "action": f"{self.base}/signin",
            "csrf": session.csrf,
            "next": next_page or "",
            "error": error,
            "name": name,
        }
        status = 200 if error is None else 403
        return self.save(render.page("signin.html", context, status), session)

    async def page(self, request: Request) -> Response:
        """``GET /signin``: the form, or for a signed-in user the page asked for."""
        session, user = await self.current(request)
        next_page = safe_next(request.query_params.get("next"))
        if user is None:
            return self._form(session, next_page)
        if next_page:
            return RedirectResponse(self.base + next_page, status_code=303)
        home = None
        if self.services.settings.link_mode() == "sign-in":
            home = self.services.links.view(ROOT_ID)
        context = {
            "title": "Signed in",
            "account": self.account(session, user),
            "display_name": self.services.settings.display_name,
            "home": home,
        }
        return self.save(render.page("signed-in.html", context), session)

    async def submit(self, request: Request) -> Response:
        """``POST /signin``: check the CSRF token and the password, then go on."""
        session = self.accounts.sessions.load(request)
        form = await read_body(request)
        next_page = safe_next(form.get("next"))
        if not session.csrf_matches(form.get("csrf")):
            return self.save(render.error_page(Forbidden(EXPIRED)), session)
        name = form.get("name", "").strip()
        password = form.get("password", "")
        user = None
        if name and password:
            user = await anyio.to_thread.run_sync(self.accounts.users.authenticate, name, password)
        if user is None:
            await anyio.sleep(FAILED_DELAY)
            return self._form(session, next_page, FAILED, name)
        request.scope.setdefault("state", {})["docrelay_user"] = user.name
        target = self.base + (next_page or "/signin")
        response = RedirectResponse(target, status_code=303)
        return self.save(response, self.accounts.sessions.signed_in(user))

    async def sign_out(self, request: Request) -> Response:
        """``POST /signout``: end the session."""
        session = self.accounts.sessions.load(request)
        form = await read_body(request)
        if not session.csrf_matches(form.get("csrf")):
            return self.save(render.error_page(Forbidden(EXPIRED)), session)
        response = RedirectResponse(f"{self.base}/signin", status_code=303)
        return self.save(response, Session(changed=True))


def require_session(sign_in: SignIn, handler: Handler) -> Handler:
    """Let only a signed-in visitor through; ``request.state`` gets ``viewer`` (the user)
    and ``account`` (for the pages' bar)."""

    async def endpoint(request: Request) -> Response:
        session, user = await sign_in.current(request)
        if user is None:
            return sign_in.to_sign_in(request)
        request.state.viewer = user
        request.state.account = sign_in.account(session, user)
        return sign_in.save(await handler(request), session)

    return endpoint


def _form_endpoint(get: Handler | None, post: Handler) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            if request.method in ("GET", "HEAD") and get is not None:
                return await get(request)
            if request.method == "POST":
                return await post(request)
            allowed = "GET, HEAD, POST" if get is not None else "POST"
            error = MethodNotAllowed(f"This page takes {allowed}, not {request.method}.")
            return render.error_page(error, {"Allow": allowed})
        except Exception as error:  # a page never answers bad input with a 500
            return render.failure_page(error)

    return endpoint


def routes(services: Services) -> list[BaseRoute]:
    if not uses_sign_in(services.settings):
        return []
    sign_in = SignIn(services)
    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    return [
        Route("/signin", _form_endpoint(sign_in.page, sign_in.submit), methods=methods),
        Route("/signout", _form_endpoint(None, sign_in.sign_out), methods=methods),
    ]
