"""Search latency over a large catalog, against a scan of every name in the same run.

    .venv/bin/python bench/search.py [--items 1000000]

Fills a fresh SQLite catalog with synthetic names (no files: the catalog is what search
reads), then times queries through docrelay's search and through a baseline that tests
every catalogued name, as a tree walk would. Prints p50/p99 of both and their ratio.
"""

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from docrelay.catalog.db import Database
from docrelay.catalog.items import PRESENT, ROOT_PK, name_columns, new_id
from docrelay.catalog.schema import items
from docrelay.catalog.search import query_words, search

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


def fill(database: Database, count: int, rng: random.Random) -> None:
    now = time.time()
    batch = []
    with database.write() as connection:
        connection.execute(
            insert(items).values(
                pk=ROOT_PK,
                id="/",
                parent_pk=None,
                kind="folder",
                state=PRESENT,
                size=0,
                mtime_ms=0,
                ancestry="",
                created_at=now,
                changed_at=now,
                **name_columns("", "folder"),
            )
        )
    for index in range(count):
        name = (
            f"{rng.choice(WORDS)}-{rng.choice(WORDS)} {rng.randrange(10**6):06d}"
            f"{rng.choice(['.pdf', '.docx', '.xlsx', '.png', ''])}"
        )
        batch.append(
            {
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
        )
        if len(batch) == 20000:
            with database.write() as connection:
                connection.execute(insert(items), batch)
            batch.clear()
    if batch:
        with database.write() as connection:
            connection.execute(insert(items), batch)


def timed(function, queries):  # type: ignore[no-untyped-def]
    times = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    options = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        database.migrate()
        started = time.perf_counter()
        fill(database, options.items, rng)
        print(f"catalog of {options.items} items filled in {time.perf_counter() - started:.1f}s")
        queries = [f"{rng.randrange(10**6):06d}"[:4] for _ in range(options.queries // 2)]
        queries += [
            f"{rng.choice(WORDS)} {rng.randrange(10**3):03d}" for _ in range(options.queries // 2)
        ]
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
        print(f"docrelay search: p50 {ours[0]:.2f} ms, p99 {ours[1]:.2f} ms")
        print(f"scan of every name (in memory): p50 {base[0]:.2f} ms, p99 {base[1]:.2f} ms")
        print(
            f"ratio (scan / docrelay): p50 {base[0] / ours[0]:.1f}x, p99 {base[1] / ours[1]:.1f}x"
        )


if __name__ == "__main__":
    main()
