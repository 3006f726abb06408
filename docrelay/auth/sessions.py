"""Browser sessions: one signed cookie (itsdangerous) with the signed-in user and the
token that every form of the pages carries against cross-site request forgery.

The cookie is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the public URL is
https. It holds no secret of the user's: the user's key and a *session epoch*, which
changes with the password, so that changing it ends every session at once. The
signing key is generated once and kept in the catalog, like the link secret.
"""

import hmac
import secrets
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from docrelay.auth.users import User

COOKIE = "docrelay_session"
MAX_AGE = 12 * 3600


def _csrf() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Session:
    csrf: str = field(default_factory=_csrf)
    user_pk: int | None = None
    epoch: str | None = None
    changed: bool = False  # to be sent as a new cookie

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            self.csrf.encode(), (presented or "").encode("utf-8", "surrogatepass")
        )


class Sessions:
    def __init__(self, secret: bytes, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="docrelay.session")
        self.secure = secure

    def load(self, request: Request) -> Session:
        """The request's session, or a new anonymous one (sent with the response)."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self._serializer.loads(raw, max_age=MAX_AGE)
            except BadSignature:  # also an expired one
                data = None
            if isinstance(data, dict) and isinstance(data.get("c"), str):
                user_pk = data.get("u")
                epoch = data.get("e")
                return Session(
                    csrf=data["c"],
                    user_pk=user_pk if isinstance(user_pk, int) else None,
                    epoch=epoch if isinstance(epoch, str) else None,
                )
        return Session(changed=True)

    @staticmethod
    def signed_in(user: User) -> Session:
        """A fresh session for the user: a new CSRF token too, so none survives sign-in."""
        return Session(user_pk=user.pk, epoch=user.session_epoch, changed=True)

    def save(self, response: Response, session: Session) -> Response:
        if session.changed:
            data = {"c": session.csrf, "u": session.user_pk, "e": session.epoch}
            value = self._serializer.dumps(data)
            response.set_cookie(
                COOKIE,
                value,
                max_age=MAX_AGE,
                path="/",
                secure=self.secure,
                httponly=True,
                samesite="lax",
            )
        return response
