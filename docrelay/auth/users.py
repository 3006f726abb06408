"""The people who sign in to docrelay: names, Argon2 password hashes, lockout.

A user's name is the acting user for rights, exactly as the ``username`` header is in
ApiKey mode. Names are compared case-insensitively. After ``MAX_FAILURES`` failed
sign-ins in a row an account is locked for ``LOCK_SECONDS``; the count lives in the
catalog, so every instance sees it.
"""

import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, delete, insert, select, update

from docrelay.catalog.db import Database
from docrelay.catalog.schema import oauth_codes, oauth_tokens, users
from docrelay.errors import BadRequest, Conflict

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class User:
    pk: int
    name: str
    email: str | None
    read_only: bool
    session_epoch: str
    created_at: float
    locked_until: float | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> "User":
        return cls(
            pk=row.pk,
            name=row.name,
            email=row.email,
            read_only=bool(row.read_only),
            session_epoch=row.session_epoch,
            created_at=row.created_at,
            locked_until=row.locked_until,
        )

    def locked(self, now: float | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or time.time())


def name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def check_user_name(name: str) -> str:
    """The name, trimmed; a BadRequest if it is empty, too long or holds control characters."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"A user name has 1 to {MAX_NAME_LENGTH} characters.")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise BadRequest("A user name cannot hold control or format characters.")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    return password


class Users:
    def __init__(self, database: Database) -> None:
        self.db = database
        self._hasher = PasswordHasher()
        self._dummy_hash: str | None = None
        self._lock = threading.Lock()

    def add(
        self, name: str, password: str, email: str | None = None, read_only: bool = False
    ) -> User:
        name = check_user_name(name)
        password_hash = self._hasher.hash(check_password(password))
        now = time.time()
        with self.db.write() as connection:
            if self._row(connection, name) is not None:
                raise Conflict(f"There is a user {name!r} already.")
            connection.execute(
                insert(users).values(
                    name=name,
                    name_key=name_key(name),
                    email=email or None,
                    password_hash=password_hash,
                    read_only=read_only,
                    session_epoch=secrets.token_hex(8),
                    failed_count=0,
                    created_at=now,
                    password_changed_at=now,
                )
            )
            row = self._row(connection, name)
        assert row is not None
        return User.from_row(row)

    @staticmethod
    def _row(connection: Connection, name: str) -> Row[Any] | None:
        return connection.execute(select(users).where(users.c.name_key == name_key(name))).first()

    def list(self) -> list[User]:
        with self.db.read() as connection:
            rows = connection.execute(select(users).order_by(users.c.name_key)).all()
        return [User.from_row(row) for row in rows]

    def find(self, name: str) -> User | None:
        with self.db.read() as connection:
            row = self._row(connection, name)
        return None if row is None else User.from_row(row)

    def get(self, pk: int) -> User | None:
        with self.db.read() as connection:
            row = connection.execute(select(users).where(users.c.pk == pk)).first()
        return None if row is None else User.from_row(row)

    def remove(self, name: str) -> bool:
        """Remove the user with every code and token issued to them."""
        with self.db.write() as connection:
            row = self._row(connection, name)
            if row is None:
                return False
            pk = row.pk
            connection.execute(delete(oauth_tokens).where(oauth_tokens.c.user_pk == pk))
            connection.execute(delete(oauth_codes).where(oauth_codes.c.user_pk == pk))
            connection.execute(delete(users).where(users.c.pk == pk))
        return True

    def set_password(self, name: str, password: str) -> bool:
        """A new password; it unlocks the account and ends its browser sessions."""
        password_hash = self._hasher.hash(check_password(password))
        with self.db.write() as connection:
            result = connection.execute(
                update(users)
                .where(users.c.name_key == name_key(name))
                .values(
                    password_hash=password_hash,
                    session_epoch=secrets.token_hex(8),
                    failed_count=0,
                    locked_until=None,
                    password_changed_at=time.time(),
                )
            )
        return bool(result.rowcount)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, if the password is theirs and the account is not locked.

        An unknown name costs the same Argon2 verification as a known one, so the time
        taken does not tell which names exist.
        """
        with self.db.read() as connection:
            row = self._row(connection, name)
        if row is None:
            self._verify(self._dummy(), password)
            return None
        user = User.from_row(row)
        stored: str = row.password_hash
        if user.locked():
            self._verify(stored, password)
            return None
        if not self._verify(stored, password):
            self._count_failure(user.pk)
            return None
        self._succeeded(user.pk, stored, password)
        return user

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        with self._lock:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
            return self._dummy_hash

    def _count_failure(self, pk: int) -> None:
        with self.db.write() as connection:
            connection.execute(
                update(users).where(users.c.pk == pk).values(failed_count=users.c.failed_count + 1)
            )
            count = connection.execute(
                select(users.c.failed_count).where(users.c.pk == pk)
            ).scalar_one()
            if count >= MAX_FAILURES:
                connection.execute(
                    update(users)
                    .where(users.c.pk == pk)
                    .values(failed_count=0, locked_until=time.time() + LOCK_SECONDS)
                )

    def _succeeded(self, pk: int, stored: str, password: str) -> None:
        values: dict[str, object] = {"failed_count": 0, "locked_until": None}
        if self._hasher.check_needs_rehash(stored):
            values["password_hash"] = self._hasher.hash(password)
        with self.db.write() as connection:
            connection.execute(update(users).where(users.c.pk == pk).values(**values))
