"""OAuth2 clients (Workfront): an id, an Argon2-hashed secret and one redirect URI.

``Client`` is what Authlib's grants call a client (its ``ClientMixin`` interface): a
confidential client that authenticates at the token endpoint with its secret, asks for
``response_type=code`` and uses the ``authorization_code`` and ``refresh_token`` grants.
Its redirect URI matches exactly, character for character.
"""

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Row, delete, insert, select

from docrelay.catalog.db import Database
from docrelay.catalog.schema import oauth_clients, oauth_codes, oauth_tokens
from docrelay.errors import BadRequest

CLIENT_PREFIX = "drc_"
SECRET_PREFIX = "drs_"  # noqa: S105 - a prefix, not a secret
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
# where the token endpoint reads the client's id and secret (SPEC.md §3)
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_query")

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    redirect_uri: str
    created_at: float
    secret_hash: str = field(repr=False)

    @classmethod
    def from_row(cls, row: Row[Any]) -> "Client":
        return cls(row.id, row.name, row.redirect_uri, row.created_at, row.secret_hash)

    # -- Authlib's ClientMixin -----------------------------------------------------------

    def get_client_id(self) -> str:
        return self.id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
        return ""  # one implicit scope: the user's documents, with the user's rights

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        try:
            return bool(_hasher.verify(self.secret_hash, client_secret))
        except (VerificationError, InvalidHashError):
            return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in TOKEN_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


def check_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise BadRequest("A redirect URI is an absolute http(s) URL without a fragment.")
    return uri


class Clients:
    def __init__(self, database: Database) -> None:
        self.db = database

    def add(self, name: str, redirect_uri: str) -> tuple[Client, str]:
        """A new client and its secret, which is shown once and never kept."""
        redirect_uri = check_redirect_uri(redirect_uri.strip())
        client_id = CLIENT_PREFIX + secrets.token_hex(8)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        secret_hash = _hasher.hash(secret)
        with self.db.write() as connection:
            connection.execute(
                insert(oauth_clients).values(
                    id=client_id,
                    name=name,
                    secret_hash=secret_hash,
                    redirect_uri=redirect_uri,
                    created_at=now,
                )
            )
        return Client(client_id, name, redirect_uri, now, secret_hash), secret

    def list(self) -> list[Client]:
        with self.db.read() as connection:
            rows = connection.execute(
                select(oauth_clients).order_by(oauth_clients.c.created_at)
            ).all()
        return [Client.from_row(row) for row in rows]

    def get(self, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        with self.db.read() as connection:
            row = connection.execute(
                select(oauth_clients).where(oauth_clients.c.id == client_id)
            ).first()
        return None if row is None else Client.from_row(row)

    def default(self, configured: str | None) -> Client | None:
        """The client a request without ``client_id`` is for: the configured one, or the
        only one registered."""
        if configured:
            return self.get(configured)
        with self.db.read() as connection:
            rows = connection.execute(select(oauth_clients).limit(2)).all()
        return Client.from_row(rows[0]) if len(rows) == 1 else None

    def remove(self, client_id: str) -> bool:
        """Remove the client with every code and token issued to it."""
        with self.db.write() as connection:
            connection.execute(delete(oauth_tokens).where(oauth_tokens.c.client_id == client_id))
            connection.execute(delete(oauth_codes).where(oauth_codes.c.client_id == client_id))
            result = connection.execute(
                delete(oauth_clients).where(oauth_clients.c.id == client_id)
            )
        return bool(result.rowcount)
