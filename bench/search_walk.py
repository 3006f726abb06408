"""``/search`` over HTTP at a million items, against the reference approach: a tree walk.

    .venv/bin/python bench/search_walk.py [--folders 1000] [--files 1000] [--queries 400]

Makes a real tree of ``folders × files`` empty files (names as bench/search.py draws
them), catalogues it, starts ``docrelay serve`` on it and times ``GET /api/search`` one
request after another over a kept-alive connection (body read in full). The reference
is what Workfront's 2015 Java example provider did for every query: walk the whole tree
and test each name with a case-insensitive regex per word (``os.walk`` + ``re.search``),
timed in this process over the same tree in the same run.

The catalog is filled directly, folder by folder, from what docrelay's local store lists
(the same rows a crawl writes): ``docrelay index`` catalogues about 1 200 items a second
on a 2-core machine, a quarter of an hour for a million. The server runs with the crawler
and the watcher off, so that the timings are of search alone.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import httpx
from harness import AUTH, Servers, percentile, record, work_folder
from sqlalchemy import insert

from docrelay.catalog.db import Database
from docrelay.catalog.items import PRESENT, ROOT_ID, ROOT_PK, entry_columns, name_columns, new_id
from docrelay.catalog.schema import items
from docrelay.store.local import LocalStore

BENCH = "search"
WORDS = [
    "budget", "report", "invoice", "contract", "design", "brief", "minutes", "draft",
    "final", "review", "plan", "logo", "photo", "scan", "notes", "summary", "proposal",
    "agenda", "roadmap", "estimate",
]  # fmt: skip
EXTENSIONS = [".pdf", ".docx", ".xlsx", ".png", ""]
BATCH = 20_000


def make_tree(root: Path, folders: int, files: int, rng: random.Random) -> None:
    for index in range(folders):
        folder = root / f"{rng.choice(WORDS)} {index:04d}"
        folder.mkdir()
        for _ in range(files):
            name = (
                f"{rng.choice(WORDS)}-{rng.choice(WORDS)} {rng.randrange(10**6):06d}"
                f"{rng.choice(EXTENSIONS)}"
            )
            os.close(os.open(folder / name, os.O_CREAT | os.O_WRONLY, 0o644))


def _row(pk: int, parent_pk: int, ancestry: str, entry: Any, now: float) -> dict[str, Any]:
    return {
        "pk": pk,
        "id": new_id(),
        "parent_pk": parent_pk,
        "kind": entry.kind,
        "state": PRESENT,
        "ancestry": ancestry,
        "created_at": now,
        "changed_at": now,
        "generation": 0,
        **entry_columns(entry),
        **name_columns(entry.name, entry.kind),
    }


def fill_catalog(database: Database, root: Path) -> int:
    """Catalogue the two-level tree as a crawl would; the number of items."""
    database.migrate()
    store = LocalStore(root)
    now = time.time()
    with database.write() as connection:
        connection.execute(
            insert(items).values(
                pk=ROOT_PK, id=ROOT_ID, parent_pk=None, kind="folder", state=PRESENT,
                size=0, mtime_ms=0, ancestry="", created_at=now, changed_at=now,
                **name_columns("", "folder"),
            )
        )  # fmt: skip
    pk = ROOT_PK
    batch: list[dict[str, Any]] = []
    folders = []
    for entry in store.list_folder(()):
        pk += 1
        folders.append((pk, entry.name))
        batch.append(_row(pk, ROOT_PK, f"/{ROOT_PK}/", entry, now))
    for folder_pk, name in folders:
        for entry in store.list_folder((name,)):
            pk += 1
            batch.append(_row(pk, folder_pk, f"/{ROOT_PK}/{folder_pk}/", entry, now))
        if len(batch) >= BATCH:
            _insert(database, batch)
    _insert(database, batch)
    return pk - ROOT_PK


def _insert(database: Database, batch: list[dict[str, Any]]) -> None:
    if batch:
        with database.write() as connection:
            connection.execute(insert(items), batch)
        batch.clear()


def reference_search(root: Path, query: str) -> list[str]:
    """Every item under ``root`` whose name matches each word (the 2015 reference)."""
    patterns = [re.compile(re.escape(word), re.IGNORECASE) for word in query.split()]
    found = []
    for folder, folder_names, file_names in os.walk(root):
        for name in folder_names + file_names:
            if all(pattern.search(name) for pattern in patterns):
                found.append(os.path.join(folder, name))
    return found


def queries(rng: random.Random, count: int) -> dict[str, list[str]]:
    return {
        # what Workfront users type: a part of a number, a word and a number
        "mixed": [
            (
                f"{rng.randrange(10**6):06d}"[:4]
                if index % 2
                else f"{rng.choice(WORDS)} {rng.randrange(10**3):03d}"
            )
            for index in range(count)
        ],
        # one common word: a tenth of the names match, the whole match set is ranked
        "one common word": [rng.choice(WORDS) for _ in range(max(20, count // 10))],
    }


def timed_http(client: httpx.Client, url: str, query: str) -> float:
    started = time.perf_counter()
    response = client.get(url, params={"query": query})
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"search {query!r}: status {response.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folders", type=int, default=1000)
    parser.add_argument("--files", type=int, default=1000, help="per folder")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--reference-queries", type=int, default=10)
    options = parser.parse_args()
    total = options.folders * (options.files + 1)
    print(f"/search over {total} items, against os.walk + re.search", flush=True)
    rng = random.Random(11)
    with work_folder(BENCH) as work, Servers(work) as servers:
        root = work / "root"
        root.mkdir()
        started = time.perf_counter()
        make_tree(root, options.folders, options.files, rng)
        print(f"  tree of {total} items made in {time.perf_counter() - started:.0f}s", flush=True)
        started = time.perf_counter()
        data = work / "docrelay-data"
        database = Database(f"sqlite:///{data / 'catalog.sqlite3'}")
        count = fill_catalog(database, root)
        database.dispose()
        print(f"  catalogued {count} items in {time.perf_counter() - started:.0f}s", flush=True)
        docrelay = servers.docrelay(
            root, settings={"DOCRELAY_CRAWL_INTERVAL": "0", "DOCRELAY_WATCH": "false"}
        )
        url = docrelay.url("/api/search")
        workload = queries(rng, options.queries)
        ours: dict[str, list[float]] = {}
        with httpx.Client(headers=AUTH, timeout=60) as client:
            for query in workload["mixed"][:20]:  # warm the page cache and the code paths
                timed_http(client, url, query)
            for kind, kind_queries in workload.items():
                ours[kind] = [timed_http(client, url, query) for query in kind_queries]
        reference = [
            _timed_reference(root, query)
            for query in workload["mixed"][: options.reference_queries]
        ]
        mixed = ours["mixed"]
        shown = {
            **{f"docrelay, {kind}": times for kind, times in ours.items()},
            "  of which a part of a number": mixed[1::2],
            "  of which a word and a number": mixed[0::2],
            "os.walk + re.search, mixed": reference,
        }
        for name, times in shown.items():
            print(
                f"  {name:<34} p50 {percentile(times, 0.5):9.2f} ms  "
                f"p99 {percentile(times, 0.99):9.2f} ms  ({len(times)} queries)",
                flush=True,
            )
        p99 = percentile(mixed, 0.99)
        record(BENCH, f"docrelay p99 ms at {count} items", p99, target="<= 20", ok=p99 <= 20)
        record(BENCH, "docrelay p50 ms", percentile(mixed, 0.5))
        record(BENCH, "walk / docrelay, p50", percentile(reference, 0.5) / percentile(mixed, 0.5))
        record(BENCH, "walk / docrelay, p99", percentile(reference, 0.99) / percentile(mixed, 0.99))
        common = ours["one common word"]
        record(
            BENCH,
            "docrelay p99 ms, one common word",
            percentile(common, 0.99),
            target="<= 20",
            ok=percentile(common, 0.99) <= 20,
        )


def _timed_reference(root: Path, query: str) -> float:
    started = time.perf_counter()
    reference_search(root, query)
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
