"""The catalog's database: engine, migrations, and the two kinds of transaction.

SQLite (the default) and PostgreSQL (psycopg 3) run the same migrations and queries.
What differs is how a write excludes other writers. On SQLite a write transaction takes
the database's write lock at once (``BEGIN IMMEDIATE``), so every check-then-insert is
alone. On PostgreSQL transactions are READ COMMITTED and run side by side; a write that
chooses a name or compares what the store lists with what the catalog holds first takes
the advisory lock of that folder (``lock_folder``), and after that sees every change
committed before it.
"""

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from docrelay.errors import DocrelayError

log = logging.getLogger("docrelay.catalog")

MIGRATIONS = Path(__file__).with_name("migrations")

# Advisory-lock keys on PostgreSQL: a folder's pk (positive) serialises the name choices
# in that folder; docrelay's own locks take negative keys (catalog/lease.py uses -1).
LEASE_LOCK = -1
MIGRATION_LOCK = -2
SERVER_VALUES_LOCK = -3

POSTGRES_DRIVER = "postgresql+psycopg"

# Alembic runs migrations through module-level proxies (alembic.op, alembic.context), so
# two threads of one process must not migrate at once, even two different databases.
_MIGRATING = threading.Lock()


class CatalogSetupError(DocrelayError):
    """The catalog's database cannot be used as configured."""


def catalog_url(url: str) -> URL:
    """``url`` parsed; a PostgreSQL URL without a driver gets psycopg 3, the one supported."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def _nul_safe_text() -> type:
    """psycopg's text dumper, with U+0000 sent as U+FFFD.

    PostgreSQL's text cannot hold U+0000, which SQLite's can; a request may carry one in
    any value (an id, a query, a Workfront document id). Sent as U+FFFD (which docrelay
    also shows for bytes of a name that are not UTF-8), such a value matches no issued
    id and no name, as on SQLite, instead of failing the statement.
    """
    from psycopg.types.string import StrDumperUnknown

    class NulSafeText(StrDumperUnknown):
        def dump(self, obj: str) -> Any:
            return super().dump(obj.replace("\x00", "\ufffd"))

    return NulSafeText


class Database:
    """Reads run in plain transactions; writes in ones that exclude other writers where it
    matters (see the module's docstring), so that a check-then-insert cannot race."""

    def __init__(self, url: str) -> None:
        self.url = catalog_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        self.engine = self._create_engine()

    def _create_engine(self) -> Engine:
        if self.is_postgres:
            return self._postgres_engine()
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True)
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # docrelay issues BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            immediate = connection.get_execution_options().get("docrelay_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def _postgres_engine(self) -> Engine:
        if self.url.get_driver_name() != "psycopg":
            raise CatalogSetupError(
                f"docrelay speaks to PostgreSQL through psycopg 3: write the URL as "
                f"{POSTGRES_DRIVER}://user@host/database."
            )
        try:
            import psycopg  # noqa: F401
        except ImportError as error:
            raise CatalogSetupError(
                "A PostgreSQL catalog needs psycopg 3, which is not installed: "
                'pip install "docrelay[postgres]"'
            ) from error
        # Statements are planned with their parameters every time (no server-side
        # prepared statements): search plans depend on the words, and poolers such as
        # PgBouncer in transaction mode keep working.
        connect_args: dict[str, Any] = {"prepare_threshold": None}
        if "application_name" not in self.url.query:
            connect_args["application_name"] = "docrelay"
        engine = create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
        dumper = _nul_safe_text()

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.adapters.register_dumper(str, dumper)

        return engine

    def migrate(self) -> None:
        """Bring the schema to the newest migration (one instance at a time)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with _MIGRATING, self.engine.begin() as connection:
                self.lock(connection, MIGRATION_LOCK)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as error:
            shown = self.url.render_as_string(hide_password=True)
            raise CatalogSetupError(
                f"The catalog database {shown} cannot be used: {error.orig}"
            ) from error

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as plain:
            connection = plain.execution_options(docrelay_write=True)
            with connection.begin():
                yield connection

    def lock(self, connection: Connection, key: int) -> None:
        """Hold the advisory lock ``key`` until the transaction ends (PostgreSQL only:
        SQLite's write transaction already excludes every other writer)."""
        if self.is_postgres:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:key AS bigint))"), {"key": key}
            )

    def lock_folder(self, connection: Connection, folder_pk: int) -> None:
        """Serialise name choices within one folder across instances."""
        self.lock(connection, folder_pk)

    def lock_folders(self, connection: Connection, *folder_pks: int | None) -> None:
        """Lock several folders, always in the same order, so that two writers never wait
        for each other."""
        for pk in sorted({pk for pk in folder_pks if pk is not None}):
            self.lock(connection, pk)

    def dispose(self) -> None:
        self.engine.dispose()
