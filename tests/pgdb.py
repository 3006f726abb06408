"""PostgreSQL for the tests: each catalog a test opens gets a schema of its own.

With ``DOCRELAY_TEST_DATABASE_URL`` set (``postgresql+psycopg://user@host:port/db``), the
whole suite runs its catalogs on PostgreSQL. The run makes one database of its own,
whose default collation (ICU ``en-US``) is not code-point order, so that a query that
forgets ``COLLATE "C"`` sorts differently and a test notices. Each catalog of a test is
a schema in it, named in the catalog URL (``search_path``) and dropped after the test;
the database is dropped after the run. Without the right to create databases, the
schemas go into the given database itself.

Migrating a schema takes longer than most tests, so a background thread keeps two
migrated schemas ready and drops those of finished tests; a test's schema is made from
a ready one (a rename) when the test first opens its catalog.

    python tests/pgdb.py [URL]    exits 0 if PostgreSQL at URL can be used, else says why
"""

import os
import secrets
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from docrelay.catalog.db import Database, catalog_url

ENV = "DOCRELAY_TEST_DATABASE_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_READY = 2


def configured_url() -> str | None:
    """The URL the suite runs its catalogs on, if it runs them on PostgreSQL."""
    return os.environ.get(ENV) or None


def unreachable(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used for the tests, or None when it can."""
    try:
        engine = create_engine(
            catalog_url(url), poolclass=NullPool, connect_args={"connect_timeout": 3}
        )
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        detail = " ".join(str(error.orig).split())
    except ImportError as error:
        detail = str(error)
    else:
        return None
    return f"PostgreSQL at {make_url(url).render_as_string()} cannot be used ({detail})"


class Schemas:
    """One database for the run, one schema for each catalog of the running test."""

    def __init__(self, url: str) -> None:
        base = catalog_url(url)
        self._admin = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.database = self._create_database()
        self.url: URL = base.set(database=self.database) if self.database else base
        self.engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as connection:
            # once, outside the schemas, which come and go; the migration finds it there
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgdb")
        self._ready: deque[Future[str]] = deque()
        self._named: dict[Path, str] = {}  # data folder → schema, in the running test
        self._made: set[str] = set()  # the test's schemas that exist
        self._long_lived: set[str] = set()  # made outside a test: kept for the run
        self._in_test = False
        self._opened: list[Database] = []  # by the running test
        self._kept: list[Database] = []  # outside a test
        self._unwatch: object = None
        self._fill()

    def _create_database(self) -> str | None:
        name = f"docrelay_test_{os.getpid()}_{secrets.token_hex(3)}"
        try:
            with self._admin.connect() as connection:
                connection.execute(
                    text(
                        f"CREATE DATABASE {name} TEMPLATE template0 "
                        "LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
                    )
                )
        except DBAPIError:
            return None
        return name

    def _execute(self, *statements: str) -> None:
        with self.engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))

    def schema_url(self, schema: str) -> str:
        query = {
            # fast commits: a test needs no durability
            "options": f"-csearch_path={schema} -csynchronous_commit=off",
            "application_name": schema,
        }
        return self.url.update_query_dict(query).render_as_string(hide_password=False)

    def empty_url(self) -> str:
        """A new empty schema of the running test (for migrating from nothing)."""
        schema = f"test_{secrets.token_hex(6)}"
        self._execute(f"CREATE SCHEMA {schema}")
        self._named[Path(schema)] = schema
        self._made.add(schema)
        return self.schema_url(schema)

    def url_for(self, data_dir: Path) -> str:
        """The catalog URL for ``data_dir`` in the running test; the schema is made when a
        ``Database`` first opens it (or by ``make``)."""
        key = Path(data_dir).resolve()
        if key not in self._named:
            self._named[key] = f"test_{secrets.token_hex(6)}"
        return self.schema_url(self._named[key])

    def make(self, schema: str) -> None:
        """Make the named schema of the test, migrated, from a ready one."""
        if not schema.startswith("test_") or schema in self._made:
            return  # the worker's own, or made already
        if schema not in self._named.values():
            return
        ready = self._ready.popleft().result() if self._ready else self._prepare()
        self._execute(f"ALTER SCHEMA {ready} RENAME TO {schema}")
        self._made.add(schema)
        if not self._in_test:
            self._long_lived.add(schema)
        self._fill()

    def _fill(self) -> None:
        while len(self._ready) < _READY:
            self._ready.append(self._worker.submit(self._prepare))

    def _prepare(self) -> str:
        schema = f"ready_{secrets.token_hex(6)}"
        self._execute(f"CREATE SCHEMA {schema}")
        database = Database(self.schema_url(schema))
        try:
            database.migrate()
        finally:
            database.dispose()
        return schema

    def watch_databases(self) -> None:
        """Make a named schema when a ``Database`` first opens it, and remember the
        ``Database`` to dispose of it: at the end of its test, or of the run when a
        module or session fixture opened it (its schema then lives as long)."""
        original = Database.__init__
        self._unwatch = original

        def init(database: Database, url: str) -> None:
            schema = str(make_url(url).query.get("application_name", ""))
            self.make(schema)
            original(database, url)
            if schema in self._made:
                (self._opened if self._in_test else self._kept).append(database)

        Database.__init__ = init  # type: ignore[method-assign]

    @contextmanager
    def test(self) -> Iterator[None]:
        """Around one test: after it, the Databases it opened are disposed of and its
        schemas dropped."""
        self._in_test = True
        try:
            yield
        finally:
            self._in_test = False
            for database in self._opened:
                database.dispose()
            self._opened.clear()
            self._drop_made()

    def _drop_made(self) -> None:
        made = sorted(self._made - self._long_lived)
        self._named = {key: name for key, name in self._named.items() if name in self._long_lived}
        self._made &= self._long_lived
        if not made:
            return
        with self.engine.connect() as connection:
            # the backends of a server the test started, or of a connection left open
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = ANY(:names) AND pid <> pg_backend_pid()"
                ),
                {"names": made},
            )
        self._worker.submit(self._execute, *(f"DROP SCHEMA {name} CASCADE" for name in made))

    def close(self) -> None:
        if self._unwatch is not None:
            Database.__init__ = self._unwatch  # type: ignore[method-assign]
        for database in self._kept:
            database.dispose()
        self._worker.shutdown(wait=True)
        ready = [future.result() for future in self._ready]
        if self.database:
            self.engine.dispose()
            with self._admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE {self.database} WITH (FORCE)"))
        else:
            names = [*ready, *sorted(self._long_lived)]
            self._execute(*(f"DROP SCHEMA {name} CASCADE" for name in names))
            self.engine.dispose()
        self._admin.dispose()


_active: Schemas | None = None


def database_url_for(data_dir: Path) -> str | None:
    """The catalog URL ``make_settings`` gives a test: None (SQLite in the data folder), or
    with ``DOCRELAY_TEST_DATABASE_URL`` a schema of the test's own."""
    return None if _active is None else _active.url_for(data_dir)


@pytest.fixture(scope="session", autouse=True)
def postgres_catalogs() -> Iterator[Schemas | None]:
    """With ``DOCRELAY_TEST_DATABASE_URL`` set, every catalog of the suite is on PostgreSQL."""
    global _active
    url = configured_url()
    if url is None:
        yield None
        return
    reason = unreachable(url)
    if reason:
        pytest.exit(f"{ENV} is set, but {reason}", returncode=1)
    _active = Schemas(url)
    _active.watch_databases()
    try:
        yield _active
    finally:
        _active.close()
        _active = None


@pytest.fixture(autouse=True)
def postgres_catalog_of_test(
    request: pytest.FixtureRequest,
    postgres_catalogs: Schemas | None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """The test's default catalog, also for the CLI and the servers it starts (through
    ``DOCRELAY_DATABASE_URL``); a server opens it in another process, so it is made now."""
    if postgres_catalogs is None:
        yield
        return
    with postgres_catalogs.test():
        url = postgres_catalogs.url_for(request.getfixturevalue("tmp_path") / "data")
        monkeypatch.setenv("DOCRELAY_DATABASE_URL", url)
        if "start_server" in request.fixturenames:
            postgres_catalogs.make(str(make_url(url).query["application_name"]))
        yield


if __name__ == "__main__":
    problem = unreachable(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)
    if problem:
        print(problem)
    sys.exit(1 if problem else 0)
