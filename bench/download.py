"""``/download`` of one big file: docrelay against nginx and ``rclone serve http``.

    .venv/bin/python bench/download.py [--size-mib 1024] [--rounds 5] [--variants]

One folder holds the file; docrelay (``docrelay serve --port 0``), nginx (sendfile on,
as Debian ships it) and rclone serve it at once, and the same client (bench/wire.py)
downloads it from each in turn, round after round, discarding the bytes.

On a shared machine the speed of loopback transfers drifts from second to second, so a
ratio is the median of per-round ratios (docrelay and the baseline measured back to
back), and each server's CPU time per GiB sent is shown beside it: a steadier measure of
the work each does. ``--variants`` also measures docrelay with one knob changed
(bench/serve_variant.py): uvicorn's HTTP parser and event loop, the read size; and
docrelay with ``accel_redirect`` behind nginx, which sends the bytes.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import AUTH, VENV_BIN, Server, Servers, cpu_seconds, median, record, work_folder
from wire import get

BENCH = "download"
ACCEL_PREFIX = "/.docrelay-files/"


def make_file(path: Path, size: int) -> None:
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            part = block[: min(len(block), size - written)]
            handle.write(part)
            written += len(part)


def file_id(server: Server, name: str) -> str:
    listing = httpx.get(server.url("/api/files"), params={"parentId": "/"}, headers=AUTH)
    listing.raise_for_status()
    return next(item["id"] for item in listing.json() if item["title"] == name)


@dataclass
class Contender:
    """One server and the request that downloads the file from it."""

    name: str
    server: Server
    target: str
    size: int
    headers: dict[str, str] | None = None
    cpu_pids: tuple[int, ...] = ()  # whose CPU time is its cost (default the server's)

    def fetch(self) -> tuple[float, float]:
        """MiB/s, and the CPU seconds the server spent per GiB."""
        pids = self.cpu_pids or (self.server.pid,)
        before = sum(cpu_seconds(pid) for pid in pids)
        transfer = get(self.server.port, self.target, self.headers)
        spent = sum(cpu_seconds(pid) for pid in pids) - before
        if transfer.status != 200 or transfer.size != self.size:
            raise RuntimeError(f"{self.name}: status {transfer.status}, {transfer.size} bytes")
        return transfer.mib_per_second, spent / (self.size / 1024**3)


def measure(
    contenders: list[Contender], rounds: int, cpu_out: dict[str, float] | None = None
) -> dict[str, list[float]]:
    """MiB/s of each per round, the servers taking turns; prints medians and CPU/GiB
    (and puts the median CPU seconds per GiB of each in ``cpu_out``)."""
    for contender in contenders:  # warm the page cache and the code paths
        contender.fetch()
    speeds: dict[str, list[float]] = {contender.name: [] for contender in contenders}
    cpu: dict[str, list[float]] = {contender.name: [] for contender in contenders}
    for _round in range(rounds):
        for contender in contenders:
            speed, seconds = contender.fetch()
            speeds[contender.name].append(speed)
            cpu[contender.name].append(seconds)
    for name, values in speeds.items():
        shown = ", ".join(f"{value:.0f}" for value in values)
        print(
            f"  {name:<36} {median(values):6.0f} MiB/s, CPU {median(cpu[name]):5.2f} s/GiB"
            f"  ({shown})",
            flush=True,
        )
        if cpu_out is not None:
            cpu_out[name] = median(cpu[name])
    return speeds


def paired(speeds: dict[str, list[float]], name: str, baseline: str) -> float:
    """The median of the per-round ratios ``name / baseline``."""
    pairs = zip(speeds[name], speeds[baseline], strict=True)
    return median([ours / theirs for ours, theirs in pairs])


def variants(servers: Servers, root: Path, name: str, rounds: int, nginx: Contender) -> None:
    launcher = [str(VENV_BIN / "python"), str(Path(__file__).with_name("serve_variant.py"))]
    trials = {
        "1 MiB reads from the page cache, no sendfile (uvloop)": ["--loop", "uvloop"],
        "4 MiB reads from the page cache, no sendfile (uvloop)": [
            *("--loop", "uvloop", "--chunk", str(4 * 1024 * 1024)),
        ],
        "uvicorn's httptools protocol, asyncio, no sendfile": [
            *("--http", "httptools", "--loop", "asyncio"),
        ],
        "h11 + asyncio (pure Python)": ["--http", "h11", "--loop", "asyncio"],
        "1 MiB reads, each in a thread": ["--thread-reads", "--loop", "uvloop"],
        "256 KiB reads, each in a thread (first)": [
            *("--thread-reads", "--chunk", "262144", "--loop", "uvloop"),
        ],
    }
    print("\n  docrelay variants (bench/serve_variant.py), each against nginx in turn:")
    for label, arguments in trials.items():
        variant = servers.docrelay(
            root, name=f"variant-{len(servers.started)}", command=[*launcher, *arguments]
        )
        ours = Contender(label, variant, f"/api/download?id={file_id(variant, name)}", nginx.size)
        ours.headers = AUTH
        speeds = measure([ours, nginx], rounds)
        servers.stop(variant)
        record(BENCH, f"variant {label} / nginx", paired(speeds, label, nginx.name))
    accelerated(servers, root, name, rounds, nginx)


def accelerated(servers: Servers, root: Path, name: str, rounds: int, nginx: Contender) -> None:
    """nginx in front of docrelay (``accel_redirect``): docrelay authorises, nginx sends
    the file."""
    upstream = servers.docrelay(
        root, name="accel-docrelay", settings={"DOCRELAY_ACCEL_REDIRECT": ACCEL_PREFIX}
    )
    front = servers.nginx(
        root,
        name="accel-nginx",
        server_block=f"""
        location /api/ {{
            proxy_pass http://127.0.0.1:{upstream.port};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
        }}
        location {ACCEL_PREFIX} {{
            internal;
            alias {root}/;
            add_header X-Content-Type-Options nosniff always;
            add_header Content-Security-Policy "default-src 'none'; sandbox" always;
        }}""",
    )
    target = f"/api/download?id={file_id(front, name)}"
    shown = get(front.port, target, {**AUTH, "Range": "bytes=0-9"}, keep_body=True)
    print(f"  X-Accel-Redirect, a Range request: {shown.status}, headers {shown.headers}")
    label = "docrelay + X-Accel-Redirect"
    ours = Contender(label, front, target, nginx.size, AUTH, (front.pid, upstream.pid))
    speeds = measure([ours, nginx], rounds)
    ratio = paired(speeds, label, nginx.name)
    record(
        BENCH,
        "X-Accel-Redirect / nginx",
        ratio,
        target=">= 0.9",
        ok=ratio >= 0.9,
        detail="accel_redirect, nginx in front",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", action="store_true")
    options = parser.parse_args()
    size = options.size_mib * 1024 * 1024
    print(f"/download of a {options.size_mib} MiB file, {options.rounds} rounds", flush=True)
    with work_folder(BENCH) as work, Servers(work) as servers:
        root = work / "root"
        root.mkdir()
        name = "big.bin"
        make_file(root / name, size)
        docrelay = servers.docrelay(root)
        nginx_server = servers.nginx(root)
        rclone = servers.rclone(root)
        target = f"/api/download?id={file_id(docrelay, name)}"
        nginx = Contender("nginx", nginx_server, f"/{name}", size)
        cpu: dict[str, float] = {}
        speeds = measure(
            [
                Contender("docrelay", docrelay, target, size, AUTH),
                nginx,
                Contender("rclone serve http", rclone, f"/{name}", size),
            ],
            options.rounds,
            cpu,
        )
        ratio = paired(speeds, "docrelay", "nginx")
        record(BENCH, "docrelay / nginx", ratio, target=">= 0.9", ok=ratio >= 0.9)
        record(
            BENCH,
            "CPU seconds per GiB, docrelay / nginx",
            cpu["docrelay"] / cpu["nginx"],
            detail=f"{cpu['docrelay']:.2f} / {cpu['nginx']:.2f} s",
        )
        record(BENCH, "docrelay / rclone", paired(speeds, "docrelay", "rclone serve http"))
        if options.variants:
            servers.stop(rclone)
            variants(servers, root, name, options.rounds, nginx)


if __name__ == "__main__":
    main()
