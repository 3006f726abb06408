"""Search latency over a large catalog, against a scan of every name in the same run.

    .venv/bin/python bench/search.py [--items 1000000] [--database-url URL]

Fills a fresh catalog with synthetic names (no files: the catalog is what search reads),
then times queries through docrelay's search and through a baseline that tests every
catalogued name, as a tree walk would. Prints p50/p99 of both and their ratio, and the
p50 of queries made only of words too short for the trigram index (a scan on both
engines).

The catalog is SQLite in a temporary folder, or with ``--database-url``
(``postgresql+psycopg://user@host/db``) a new schema in that PostgreSQL database, filled
with COPY, vacuumed and analysed as autovacuum would, and dropped afterwards.
"""

import argparse
import contextlib
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.pool import NullPool

from docrelay.catalog.catalog import ensure_root
from docrelay.catalog.db import Database, catalog_url
from docrelay.catalog.items import PRESENT, ROOT_PK, name_columns, new_id
from docrelay.catalog.schema import items
from docrelay.catalog.search import query_words, search, search_statement

WORDS = [
    "budget",
    "report",
    "invoice",
    "contract",
    "design",
    "brief",
    "minutes",
    "draft",
    "final",
    "review",
    "plan",
    "logo",
    "photo",
    "scan",
    "notes",
    "summary",
    "proposal",
    "agenda",
    "roadmap",
    "estimate",
]

BATCH = 20000
COLUMNS = [
    "id",
    "parent_pk",
    "kind",
    "state",
    "size",
    "mtime_ms",
    "ancestry",
    "created_at",
    "changed_at",
    "name_raw",
    "title",
    "name_key",
    "natural",
    "folded",
    "stem_folded",
]


def synthetic_rows(count: int, rng: random.Random, now: float) -> Iterator[dict[str, Any]]:
    for index in range(count):
        name = (
            f"{rng.choice(WORDS)}-{rng.choice(WORDS)} {rng.randrange(10**6):06d}"
            f"{rng.choice(['.pdf', '.docx', '.xlsx', '.png', ''])}"
        )
        yield {
            "id": new_id(),
            "parent_pk": ROOT_PK,
            "kind": "file",
            "state": PRESENT,
            "size": index,
            "mtime_ms": int(now * 1000) - index,
            "ancestry": "/1/",
            "created_at": now,
            "changed_at": now,
            **name_columns(name, "file"),
        }


def fill(database: Database, count: int, rng: random.Random) -> None:
    now = time.time()
    with database.write() as connection:
        ensure_root(connection)
    batch = []
    for row in synthetic_rows(count, rng, now):
        batch.append(row)
        if len(batch) == BATCH:
            _insert(database, batch)
            batch.clear()
    if batch:
        _insert(database, batch)
    if database.is_postgres:
        with database.engine.connect() as plain:
            plain.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM (ANALYZE) items")
            )


def _insert(database: Database, batch: list[dict[str, Any]]) -> None:
    with database.write() as connection:
        if not database.is_postgres:
            connection.execute(insert(items), batch)
            return
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        columns = ", ".join(f'"{column}"' for column in COLUMNS)  # natural is a keyword
        with cursor.copy(f"COPY items ({columns}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row([row[column] for column in COLUMNS])


@contextlib.contextmanager
def catalog(database_url: str | None) -> Iterator[Database]:
    """A fresh, migrated catalog: SQLite in a temporary folder, or a PostgreSQL schema."""
    if database_url is None:
        with tempfile.TemporaryDirectory() as folder:
            database = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
            database.migrate()
            yield database
            database.dispose()
        return
    url = catalog_url(database_url)
    schema = f"docrelay_bench_{secrets.token_hex(4)}"
    admin = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        in_schema = url.update_query_dict({"options": f"-csearch_path={schema},public"})
        database = Database(in_schema.render_as_string(hide_password=False))
        database.migrate()
        yield database
        database.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def timed(function: Callable[[str], object], queries: list[str]) -> tuple[float, float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", help="a PostgreSQL URL; default SQLite")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's plans")
    options = parser.parse_args()
    rng = random.Random(7)
    with catalog(options.database_url) as database:
        engine = "PostgreSQL" if database.is_postgres else "SQLite"
        started = time.perf_counter()
        fill(database, options.items, rng)
        elapsed = time.perf_counter() - started
        print(f"{engine} catalog of {options.items} items filled in {elapsed:.1f}s")
        queries = [f"{rng.randrange(10**6):06d}"[:4] for _ in range(options.queries // 2)]
        queries += [
            f"{rng.choice(WORDS)} {rng.randrange(10**3):03d}" for _ in range(options.queries // 2)
        ]
        short = [f"{rng.randrange(100):02d}" for _ in range(10)]
        with database.read() as connection:
            names = [row.folded for row in connection.execute(select(items.c.folded))]

        def docrelay_search(query: str) -> None:
            with database.read() as connection:
                search(connection, query)

        def scan(query: str) -> None:
            words = query_words(query)[1]
            [name for name in names if all(word in name for word in words)]

        ours = timed(docrelay_search, queries)
        base = timed(scan, queries[: max(10, len(queries) // 10)])
        shorts = timed(docrelay_search, short)
        print(f"docrelay search: p50 {ours[0]:.2f} ms, p99 {ours[1]:.2f} ms")
        print(f"scan of every name (in memory): p50 {base[0]:.2f} ms, p99 {base[1]:.2f} ms")
        print(
            f"ratio (scan / docrelay): p50 {base[0] / ours[0]:.1f}x, p99 {base[1] / ours[1]:.1f}x"
        )
        print(f"docrelay search, only words under 3 characters (no index): p50 {shorts[0]:.2f} ms")
        if options.explain and database.is_postgres:
            explain(database, [queries[0], queries[-1], f"{queries[-1]} {short[0]}", short[0]])


def explain(database: Database, queries: list[str]) -> None:
    with database.read() as connection:
        for query in queries:
            statement = search_statement("postgresql", query)
            assert statement is not None
            sql = statement.compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").all()
            print(f"\n-- {query!r}\n" + "\n".join(row[0] for row in rows))


if __name__ == "__main__":
    main()
