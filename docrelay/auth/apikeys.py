"""API keys: the configured one, and those made with ``docrelay keys create``.

A made key reads ``drk_<id>_<secret>``; only an Argon2 hash of it is kept. Verifying a
hash is slow on purpose, so a key once verified is remembered in memory by its SHA-256
(never the key itself) and checked against its row, still unrevoked, on every call.
"""

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from sqlalchemy import insert, select, update

from docrelay.catalog.db import Database
from docrelay.catalog.schema import api_keys

PREFIX = "drk_"
CONFIGURED = "configured"


@dataclass(frozen=True)
class KeyInfo:
    id: str
    name: str
    created_at: float
    revoked_at: float | None


class KeyRing:
    def __init__(self, database: Database, configured: SecretStr | None = None) -> None:
        self.db = database
        self._configured = configured.get_secret_value() if configured else None
        self._hasher = PasswordHasher()
        self._verified: dict[bytes, str] = {}
        self._lock = threading.Lock()

    @property
    def has_configured_key(self) -> bool:
        return bool(self._configured)

    def create(self, name: str) -> tuple[KeyInfo, str]:
        """A new key: its record, and the key itself, which is shown once and never kept."""
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        with self.db.write() as connection:
            connection.execute(
                insert(api_keys).values(
                    id=key_id, name=name, secret_hash=self._hasher.hash(key), created_at=now
                )
            )
        return KeyInfo(key_id, name, now, None), key

    def list(self) -> list[KeyInfo]:
        with self.db.read() as connection:
            rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [KeyInfo(row.id, row.name, row.created_at, row.revoked_at) for row in rows]

    def active_count(self) -> int:
        return sum(1 for key in self.list() if key.revoked_at is None)

    def revoke(self, key_id: str) -> bool:
        with self.db.write() as connection:
            result = connection.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return bool(result.rowcount)

    def verify(self, presented: str | None) -> str | None:
        """The id of the key ``presented`` is (``configured`` for the configured one)."""
        if not presented:
            return None
        if self._configured and hmac.compare_digest(presented.encode(), self._configured.encode()):
            return CONFIGURED
        if not presented.startswith(PREFIX) or presented.count("_") < 2:
            return None
        key_id = presented[len(PREFIX) :].split("_", 1)[0]
        with self.db.read() as connection:
            row = connection.execute(
                select(api_keys.c.secret_hash).where(
                    api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            return None
        digest = hashlib.sha256(presented.encode()).digest()
        with self._lock:
            if self._verified.get(digest) == key_id:
                return key_id
        try:
            self._hasher.verify(row.secret_hash, presented)
        except (VerificationError, InvalidHashError):
            return None
        with self._lock:
            self._verified[digest] = key_id
        return key_id
