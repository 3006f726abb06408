"""A bounded mixed load on a real ``docrelay serve``: zero errors, every uploaded byte kept.

    scripts/robustness-load [--minutes 10] [--workers 6] [--quick]

Loopback only (the server binds 127.0.0.1 on a free port). Concurrent workers browse,
read metadata, search, download (whole, ranges, past the end, conditional), upload (new,
replace; raw and multipart; some into one shared folder under the same name), rename,
create folders and delete, for the given minutes; every request has a timeout and the
loop stops by itself. Each answer must be the one SPEC.md gives for that call and the
OpenAPI document allows (robustness/load_workers.py says how a worker knows). Then:
every file a worker uploaded is on disk with exactly its last content (sha256), the
catalog's listing of the whole tree equals the disk and the workers' record, no
``.~docrelay-*`` temporary is left, and the server logged no error. Prints requests,
errors and p50/p99 per kind; exits 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from contract import Contract
from load_workers import REQUEST_TIMEOUT, File, Folder, Shared, Stats, Worker
from server import HEADERS, Api, Server, running_server, temporaries

Tree = dict[tuple[str, ...], tuple[str, int | None, str | None]]  # path: kind, size, sha256
READ_ONLY_SIZES = [0, 1000, 300_000, 2_500_000]


def set_up(api: Api, workers: int) -> tuple[Shared, list[Folder]]:
    root = Folder("/", "", None)
    readonly = api.folder("/", "Read only")
    folder = Folder(readonly["id"], readonly["title"], root)
    rng = random.Random(0)
    files = []
    for number, size in enumerate(READ_ONLY_SIZES):
        content = rng.randbytes(size)
        item = api.upload(folder.id, f"shared {number}.bin", content)
        files.append(File(item["id"], item["title"], folder, content))
    drop = api.folder("/", "Drop")
    tops = [api.folder("/", f"Worker {number}") for number in range(workers)]
    top_folders = [Folder(top["id"], top["title"], root) for top in tops]
    shared = Shared(root, Folder(drop["id"], drop["title"], root), folder, files, top_folders)
    return shared, top_folders


async def run_workers(
    server: Server, document: dict[str, Any], shared: Shared, seconds: float, max_size: int
) -> tuple[Stats, list[Worker]]:
    stats, contract = Stats(), Contract(document)
    limits = httpx.Limits(max_connections=2 * len(shared.tops))
    async with httpx.AsyncClient(
        base_url=server.url, headers=HEADERS, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:
        workers = [
            Worker(number, client, contract, stats, top, shared, max_size)
            for number, top in enumerate(shared.tops)
        ]
        deadline = time.monotonic() + seconds
        running = asyncio.gather(*(worker.run(deadline) for worker in workers))
        try:
            await asyncio.wait_for(running, timeout=seconds + 2 * REQUEST_TIMEOUT + 60)
        except TimeoutError:
            stats.fail("run", "the workers did not stop after the deadline")
    return stats, workers


def expected_tree(shared: Shared, workers: list[Worker]) -> Tree:
    tree: Tree = {}
    folders = [shared.readonly, shared.drop, *(f for worker in workers for f in worker.folders)]
    for folder in folders:
        tree[folder.path()] = ("folder", None, None)
    files = [*shared.readonly_files, *(f for worker in workers for f in worker.files.values())]
    for file in files:
        if file.content is not None:  # a reservation is neither listed nor on disk
            tree[file.path()] = ("file", len(file.content), file.sha256())
    return tree


def disk_tree(root: Path) -> Tree:
    tree: Tree = {}
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(part.startswith(".~docrelay") for part in parts):
            continue  # the trash, and temporaries (counted apart)
        if path.is_dir():
            tree[parts] = ("folder", None, None)
        else:
            data = path.read_bytes()
            tree[parts] = ("file", len(data), hashlib.sha256(data).hexdigest())
    return tree


def catalog_tree(api: Api) -> Tree:
    """The whole tree as ``/files`` lists it, folder by folder from the root."""
    tree: Tree = {}
    pending: list[tuple[str, tuple[str, ...]]] = [("/", ())]
    while pending:
        folder_id, path = pending.pop()
        for item in api.ok("GET", "files", params={"parentId": folder_id}):
            child = (*path, item["title"])
            tree[child] = (item["kind"], item.get("size"), None)
            if item["kind"] == "folder":
                pending.append((item["id"], child))
    return tree


def _differences(what: str, got: Tree, expected: Tree, compare_sha: bool) -> list[str]:
    def key(entry: tuple[str, int | None, str | None]) -> tuple[Any, ...]:
        return entry if compare_sha else entry[:2]

    problems = []
    for path in sorted(set(got) | set(expected)):
        if path not in got:
            problems.append(f"{what}: {'/'.join(path)} is missing")
        elif path not in expected:
            problems.append(f"{what}: {'/'.join(path)} should not be there")
        elif key(got[path]) != key(expected[path]):
            problems.append(f"{what}: {'/'.join(path)} is {got[path]}, expected {expected[path]}")
    return problems


def verify(server: Server, api: Api, shared: Shared, workers: list[Worker]) -> list[str]:
    """What is wrong with the end state: disk, catalog, ids, temporaries, the server's log."""
    expected = expected_tree(shared, workers)
    problems = _differences("disk", disk_tree(server.root), expected, compare_sha=True)
    problems += _differences("catalog", catalog_tree(api), expected, compare_sha=False)
    for worker in workers:
        for file in worker.files.values():
            size = len(file.content) if file.content is not None else 0
            got = api.client.get("/metadata", params={"id": file.id})
            if got.status_code != 200 or got.json().get("size") != size:
                problems.append(f"metadata of {file.id}: {got.status_code} {got.text[:200]}")
        for gone in worker.deleted:
            status = api.client.get("/metadata", params={"id": gone}).status_code
            if status != 404:
                problems.append(f"the deleted {gone} answers {status}, not 404")
    problems += [f"temporary left: {path}" for path in temporaries(server.root)]
    problems += [f"server log: {line}" for line in server.faults()]
    if not server.alive():
        problems.append("the server died")
    return problems


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def summary(stats: Stats, seconds: float) -> str:
    lines = [f"{'kind':16}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}"]
    kinds = sorted(set(stats.latencies) | set(stats.error_kinds))
    for kind in kinds:
        latencies = stats.latencies.get(kind, [])
        p50 = _percentile(latencies, 0.5) if latencies else 0.0
        p99 = _percentile(latencies, 0.99) if latencies else 0.0
        errors = stats.error_kinds.get(kind, 0)
        lines.append(f"{kind:16}{len(latencies):>10}{errors:>8}{p50:>10.1f}{p99:>10.1f}")
    total = sum(len(values) for values in stats.latencies.values())
    lines.append(f"{total} requests in {seconds:.0f} s ({total / seconds:.0f}/s)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, help="how long the load runs (default 10)")
    parser.add_argument("--workers", type=int, help="concurrent workers (default 6)")
    parser.add_argument("--quick", action="store_true", help="the short form CI runs: 40 s")
    parser.add_argument(
        "--crawl-interval",
        type=float,
        help="the server's crawl_interval (default 10, --quick 2; 0: none)",
    )
    args = parser.parse_args()
    seconds = 60 * (args.minutes or (40 / 60 if args.quick else 10))
    workers_count = args.workers or (4 if args.quick else 6)
    max_size = 1536 * 1024 if args.quick else 3 * 1024 * 1024
    # The short form crawls every 2 s, so that its 40 s see crawls race the renames, moves
    # and deletes (such a race once marked a renamed folder's subtree gone).
    crawl_interval = (
        args.crawl_interval if args.crawl_interval is not None else (2 if args.quick else 10)
    )
    with running_server(DOCRELAY_CRAWL_INTERVAL=str(crawl_interval)) as server:
        api = Api(server)
        shared, _tops = set_up(api, workers_count)
        document = api.client.get(f"{server.url}/openapi.json").json()
        print(
            f"{workers_count} workers for {seconds:.0f} s against {server.url} "
            f"(crawl_interval {crawl_interval:g})",
            flush=True,
        )
        started = time.monotonic()
        stats, workers = asyncio.run(run_workers(server, document, shared, seconds, max_size))
        elapsed = time.monotonic() - started
        problems = verify(server, api, shared, workers)
        api.close()
    print(summary(stats, elapsed))
    files = sum(len(worker.uploaded()) for worker in workers)
    kept = sum(len(f.content or b"") for worker in workers for f in worker.files.values())
    print(f"at the end: {files} files ({kept} bytes) checked on disk and in the catalog")
    for line in [*stats.errors[:30], *problems[:30]]:
        print("ERROR", line)
    if stats.errors or problems:
        for line in [line for line in server.stderr if " WARNING " in line][:20]:
            print("server:", line.rstrip())
    failed = len(stats.errors) + len(problems)
    print(f"{failed} errors" if failed else "no errors: every uploaded byte accounted for")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
