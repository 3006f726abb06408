"""``/files`` of a big folder: docrelay against nginx's JSON autoindex and rclone's listing.

    .venv/bin/python bench/listing.py [--items 10000] [--connections 8] [--seconds 10]

One folder of ``--items`` files is served by docrelay (``/api/files?parentId=``, every
child's metadata object), nginx (``autoindex on; autoindex_format json;``) and
``rclone serve http`` (its HTML listing). The same load tool (bench/load.py: wrk, or an
asyncio httpx client) puts each under the same concurrency in turn, two rounds; the
ratios are of median requests per second and p99 latency of the same run.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import httpx
from harness import AUTH, Servers, median, record, work_folder
from load import Load, load_tool, run_load

BENCH = "files"
UNKEPT = "docrelay, no kept listings"
WORDS = ["budget", "report", "invoice", "contract", "design", "brief", "minutes", "draft"]
EXTENSIONS = [".pdf", ".docx", ".xlsx", ".png", ".jpg", ".txt"]


def make_folder(folder: Path, count: int) -> None:
    folder.mkdir()
    rng = random.Random(5)
    for index in range(count):
        name = f"{rng.choice(WORDS)} {index:05d} {rng.choice(WORDS)}{rng.choice(EXTENSIONS)}"
        (folder / name).write_bytes(b"x" * rng.randrange(0, 4096))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--requests", type=int, default=200, help="per round, httpx only")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--variants", action="store_true", help="also docrelay with listing_cache_items = 0"
    )
    options = parser.parse_args()
    print(
        f"/files of a {options.items}-item folder, {options.connections} connections, "
        f"{load_tool()}, {options.rounds} rounds",
        flush=True,
    )
    with work_folder(BENCH) as work, Servers(work) as servers:
        root = work / "root"
        root.mkdir()
        make_folder(root / "big", options.items)
        docrelay = servers.docrelay(root)
        nginx = servers.nginx(
            root, server_block="        location / { autoindex on; autoindex_format json; }"
        )
        rclone = servers.rclone(root)
        top = httpx.get(docrelay.url("/api/files"), params={"parentId": "/"}, headers=AUTH)
        folder_id = next(item["id"] for item in top.json() if item["title"] == "big")
        target = f"/api/files?parentId={folder_id}"
        targets = {
            "docrelay": (docrelay.url(target), AUTH),
            "nginx": (nginx.url("/big/"), {}),
            "rclone serve http": (rclone.url("/big/"), {}),
        }
        if options.variants:  # every request lists and stats the folder and renders JSON
            unkept = servers.docrelay(
                root, name="unkept", settings={"DOCRELAY_LISTING_CACHE_ITEMS": "0"}
            )
            top = httpx.get(unkept.url("/api/files"), params={"parentId": "/"}, headers=AUTH)
            unkept_id = next(item["id"] for item in top.json() if item["title"] == "big")
            targets[UNKEPT] = (unkept.url(f"/api/files?parentId={unkept_id}"), AUTH)
        for name, (url, headers) in targets.items():  # also catalogues the folder
            answer = httpx.get(url, headers=headers, timeout=300)
            answer.raise_for_status()
            count = len(answer.json()) if name != "rclone serve http" else options.items
            if name == "docrelay":  # the second call is answered from the kept listing
                again = httpx.get(url, headers=headers, timeout=300)
                if again.content != answer.content:
                    raise RuntimeError("docrelay's kept listing differs from the listing")
            if count != options.items:
                raise RuntimeError(f"{name} listed {count} items, not {options.items}")
            print(f"  {name:<28} one listing: {len(answer.content) / 1024:.0f} KiB")
        results: dict[str, list[Load]] = {name: [] for name in targets}
        for _round in range(options.rounds):
            for name, (url, headers) in targets.items():
                result = run_load(
                    url,
                    headers,
                    connections=options.connections,
                    seconds=options.seconds,
                    requests=options.requests,
                )
                results[name].append(result)
                print(
                    f"  {name:<28} {result.requests_per_second:8.1f} req/s  "
                    f"p50 {result.p50_ms:8.1f} ms  p99 {result.p99_ms:8.1f} ms  "
                    f"({result.requests} requests)",
                    flush=True,
                )
        rate = {
            name: median([r.requests_per_second for r in runs]) for name, runs in results.items()
        }
        p99 = {name: median([r.p99_ms for r in runs]) for name, runs in results.items()}
        ratio = rate["docrelay"] / rate["nginx"]
        record(BENCH, "docrelay / nginx JSON, req/s", ratio, target=">= 1", ok=ratio >= 1)
        record(BENCH, "nginx / docrelay, p99 latency", p99["nginx"] / p99["docrelay"])
        record(BENCH, "docrelay / rclone, req/s", rate["docrelay"] / rate["rclone serve http"])
        record(BENCH, "rclone / docrelay, p99 latency", p99["rclone serve http"] / p99["docrelay"])
        record(BENCH, "docrelay p99 ms", p99["docrelay"], detail="absolute, this machine")
        if UNKEPT in rate:
            record(
                BENCH,
                "docrelay without kept listings / nginx JSON, req/s",
                rate[UNKEPT] / rate["nginx"],
                detail="DOCRELAY_LISTING_CACHE_ITEMS=0",
            )
            record(BENCH, "kept listings / none kept, req/s", rate["docrelay"] / rate[UNKEPT])


if __name__ == "__main__":
    main()
