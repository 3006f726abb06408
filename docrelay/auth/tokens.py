"""Authorization codes and tokens, kept in the catalog as SHA-256 hashes.

The codes and tokens are 256-bit random strings, so a plain SHA-256 is enough to keep
them unusable at rest (Argon2 is for the low-entropy passwords and for client secrets).

- A code is claimed once, atomically: a second exchange of the same code fails and
  revokes every token issued from it (RFC 6749 §4.1.2). Codes live ``CODE_SECONDS``.
- Every token issued from one code, refresh after refresh, is one *family*. A refresh
  token is claimed once too; presenting a rotated one again revokes the whole family,
  since one of the two presenters must have stolen it.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from docrelay.auth.users import User
from docrelay.catalog.db import Database
from docrelay.catalog.schema import oauth_clients, oauth_codes, oauth_tokens, users

CODE_SECONDS = 600
ACCESS_PREFIX = "dra_"
REFRESH_PREFIX = "drr_"
# How long rotated and revoked rows are kept, to recognise a replayed refresh token.
KEPT_SECONDS = 30 * 86400


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Code:
    """A claimed authorization code: Authlib's ``AuthorizationCodeMixin``."""

    client_id: str
    user_pk: int
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    family: str

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class Grant:
    """A claimed refresh token's row: what Authlib's refresh grant calls the token."""

    client_id: str
    user_pk: int
    scope: str
    family: str

    def check_client(self, client: Any) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class TokenInfo:
    user: str
    client: str
    issued_at: float
    expires_at: float


class Tokens:
    def __init__(self, database: Database, access_seconds: int = 3600) -> None:
        self.db = database
        self.access_seconds = access_seconds

    @staticmethod
    def new_access_token(**_context: Any) -> str:
        return ACCESS_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def new_refresh_token(**_context: Any) -> str:
        return REFRESH_PREFIX + secrets.token_urlsafe(32)

    # -- codes ---------------------------------------------------------------------------

    def save_code(self, code: str, values: dict[str, Any]) -> None:
        """Keep a new code with ``values`` (client_id, user_pk, redirect_uri, scope, PKCE)."""
        now = time.time()
        with self.db.write() as connection:
            connection.execute(delete(oauth_codes).where(oauth_codes.c.expires_at < now - 86400))
            connection.execute(
                insert(oauth_codes).values(
                    code_hash=digest(code), created_at=now, expires_at=now + CODE_SECONDS, **values
                )
            )

    def claim_code(self, code: str, client_id: str) -> Code | None:
        """The code, if it is valid for the client and unused; it is used from now on."""
        now = time.time()
        family = secrets.token_hex(16)
        where = oauth_codes.c.code_hash == digest(code)
        with self.db.write() as connection:
            claimed = connection.execute(
                update(oauth_codes)
                .where(
                    where,
                    oauth_codes.c.client_id == client_id,
                    oauth_codes.c.used_at.is_(None),
                    oauth_codes.c.expires_at > now,
                )
                .values(used_at=now, family=family)
            ).rowcount
            row = connection.execute(select(oauth_codes).where(where)).first()
            if row is None:
                return None
            if not claimed:
                if row.used_at is not None and row.family:
                    self._revoke_family(connection, row.family, now)
                return None
        return Code(
            client_id=row.client_id,
            user_pk=row.user_pk,
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            family=family,
        )

    # -- tokens --------------------------------------------------------------------------

    def save(self, token: dict[str, Any], client_id: str, user_pk: int, family: str) -> None:
        now = time.time()
        refresh = token.get("refresh_token")
        with self.db.write() as connection:
            self._prune(connection, now)
            connection.execute(
                insert(oauth_tokens).values(
                    family=family,
                    client_id=client_id,
                    user_pk=user_pk,
                    access_hash=digest(token["access_token"]),
                    refresh_hash=digest(refresh) if refresh else None,
                    scope=token.get("scope") or "",
                    issued_at=now,
                    expires_at=now + int(token.get("expires_in") or self.access_seconds),
                )
            )

    @staticmethod
    def _prune(connection: Connection, now: float) -> None:
        old = now - KEPT_SECONDS
        connection.execute(
            delete(oauth_tokens).where(
                or_(
                    oauth_tokens.c.revoked_at < old,
                    and_(oauth_tokens.c.refresh_used_at < old, oauth_tokens.c.expires_at < now),
                )
            )
        )

    def claim_refresh(self, refresh_token: str, client_id: str) -> Grant | None:
        """The refresh token's grant, if it is current; it is rotated from now on.
        A rotated one presented again revokes its family."""
        now = time.time()
        where = oauth_tokens.c.refresh_hash == digest(refresh_token)
        with self.db.write() as connection:
            claimed = connection.execute(
                update(oauth_tokens)
                .where(
                    where,
                    oauth_tokens.c.client_id == client_id,
                    oauth_tokens.c.refresh_used_at.is_(None),
                    oauth_tokens.c.revoked_at.is_(None),
                )
                .values(refresh_used_at=now)
            ).rowcount
            row = connection.execute(select(oauth_tokens).where(where)).first()
            if row is None:
                return None
            if not claimed:
                if row.refresh_used_at is not None:
                    self._revoke_family(connection, row.family, now)
                return None
        return Grant(row.client_id, row.user_pk, row.scope, row.family)

    @staticmethod
    def _revoke_family(connection: Connection, family: str, now: float) -> None:
        connection.execute(
            update(oauth_tokens)
            .where(oauth_tokens.c.family == family, oauth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def verify_access(self, access_token: str | None) -> User | None:
        """The user an unexpired, unrevoked access token was issued to."""
        if not access_token:
            return None
        with self.db.read() as connection:
            row = connection.execute(
                select(users)
                .join(oauth_tokens, oauth_tokens.c.user_pk == users.c.pk)
                .where(
                    oauth_tokens.c.access_hash == digest(access_token),
                    oauth_tokens.c.revoked_at.is_(None),
                    oauth_tokens.c.expires_at > time.time(),
                )
            ).first()
        return None if row is None else User.from_row(row)

    def revoke_user(self, user_pk: int) -> int:
        """Revoke every token and unused code of a user; how many token families."""
        now = time.time()
        with self.db.write() as connection:
            families = connection.execute(
                select(oauth_tokens.c.family)
                .where(oauth_tokens.c.user_pk == user_pk, oauth_tokens.c.revoked_at.is_(None))
                .distinct()
            ).all()
            connection.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.user_pk == user_pk, oauth_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            connection.execute(
                update(oauth_codes)
                .where(oauth_codes.c.user_pk == user_pk, oauth_codes.c.used_at.is_(None))
                .values(used_at=now)
            )
        return len(families)

    def active(self) -> list[TokenInfo]:
        """The tokens still usable (an unexpired access token or a current refresh token)."""
        with self.db.read() as connection:
            rows = connection.execute(
                select(
                    users.c.name,
                    oauth_clients.c.name.label("client"),
                    oauth_tokens.c.issued_at,
                    oauth_tokens.c.expires_at,
                )
                .join(users, users.c.pk == oauth_tokens.c.user_pk)
                .join(oauth_clients, oauth_clients.c.id == oauth_tokens.c.client_id)
                .where(
                    oauth_tokens.c.revoked_at.is_(None),
                    or_(
                        oauth_tokens.c.expires_at > time.time(),
                        and_(
                            oauth_tokens.c.refresh_hash.is_not(None),
                            oauth_tokens.c.refresh_used_at.is_(None),
                        ),
                    ),
                )
                .order_by(oauth_tokens.c.issued_at.desc())
            ).all()
        return [TokenInfo(row.name, row.client, row.issued_at, row.expires_at) for row in rows]
