"""Who may sign in and what was granted to whom: users, OAuth2 clients, tokens, sessions."""

import base64
import secrets
from dataclasses import dataclass

from authlib.common.security import is_secure_transport

from docrelay.auth.clients import Clients
from docrelay.auth.oauth import OAuthServer
from docrelay.auth.sessions import Session, Sessions
from docrelay.auth.tokens import Tokens
from docrelay.auth.users import User, Users
from docrelay.catalog.catalog import Catalog
from docrelay.catalog.db import Database
from docrelay.config import Settings
from docrelay.errors import DocrelayError


@dataclass
class Accounts:
    users: Users
    clients: Clients
    tokens: Tokens
    sessions: Sessions
    oauth: OAuthServer

    def signed_in(self, session: Session) -> User | None:
        """The session's user, unless the user is gone or changed their password since."""
        if session.user_pk is None:
            return None
        user = self.users.get(session.user_pk)
        if user is None or user.session_epoch != session.epoch:
            return None
        return user


def open_accounts(settings: Settings, database: Database, catalog: Catalog) -> Accounts:
    users = Users(database)
    clients = Clients(database)
    tokens = Tokens(database, settings.oauth_access_token_seconds)
    secure = settings.base_url().startswith("https://")
    return Accounts(
        users=users,
        clients=clients,
        tokens=tokens,
        sessions=Sessions(_session_secret(catalog), secure),
        oauth=OAuthServer(users, clients, tokens, settings.oauth_default_client),
    )


def _session_secret(catalog: Catalog) -> bytes:
    generated = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return catalog.set_server_value("session_secret", generated, keep_existing=True).encode()


def uses_sign_in(settings: Settings) -> bool:
    """Whether people sign in to docrelay: for OAuth2, or for the pages behind the links."""
    return settings.auth != "apikey" or settings.link_mode() == "sign-in"


def check_transport(settings: Settings) -> None:
    """Passwords, codes and tokens travel only over https (or to a loopback address)."""
    if uses_sign_in(settings) and not is_secure_transport(settings.base_url()):
        raise DocrelayError(
            f"Sign-in and OAuth2 need an https public_url (or a loopback address to try "
            f"them out); {settings.base_url()} is neither. Put docrelay behind a TLS proxy "
            f"and set public_url."
        )
