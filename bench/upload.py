"""``PUT /upload`` of a big file against ``dd`` writing the same bytes, with peak memory.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--rounds 3]

Each round runs ``dd if=/dev/zero of=… bs=1M count=N conv=fsync`` and an upload of N MiB
of zeros (uploadInit, then the raw body from bench/wire.py) into docrelay's root on the
same file system, in turn. docrelay also fsyncs before the file becomes visible, so
both timings end with the bytes on disk. The server's peak memory growth is VmHWM
(reset through /proc/PID/clear_refs before each upload) minus VmRSS before it; VmRSS
is also sampled every 10 ms as a check.
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time
from pathlib import Path

import httpx
from harness import (
    AUTH,
    Server,
    Servers,
    cpu_seconds,
    median,
    record,
    reset_peak,
    status_kib,
    work_folder,
)
from wire import put_zeros

BENCH = "upload"


def run_dd(target: Path, size_mib: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={size_mib}", "conv=fsync"],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    target.unlink()
    return size_mib / seconds


class Sampler(threading.Thread):
    """The highest VmRSS of a process, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.highest = status_kib(pid, "VmRSS")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.highest = max(self.highest, status_kib(self.pid, "VmRSS"))


def upload(server: Server, size_mib: int, index: int) -> tuple[float, float, float, float]:
    """MiB/s, peak growth from VmHWM and from sampling (MiB), CPU seconds per GiB."""
    init = httpx.post(
        server.url("/api/uploadInit"),
        params={"parentId": "/", "filename": f"upload-{index}.bin"},
        headers=AUTH,
    )
    init.raise_for_status()
    item_id = init.json()["id"]
    before = status_kib(server.pid, "VmRSS")
    peak_reset = reset_peak(server.pid)
    sampler = Sampler(server.pid)
    sampler.start()
    cpu = cpu_seconds(server.pid)
    transfer = put_zeros(server.port, f"/api/upload?id={item_id}", size_mib * 1024**2, AUTH)
    cpu_per_gib = (cpu_seconds(server.pid) - cpu) / (size_mib / 1024)
    sampler.done.set()
    sampler.join()
    if transfer.status != 200:
        raise RuntimeError(f"upload: {transfer.status} {transfer.body[:200]!r}")
    hwm = status_kib(server.pid, "VmHWM") if peak_reset else sampler.highest
    delete = httpx.put(server.url("/api/delete"), params={"id": item_id}, headers=AUTH)
    delete.raise_for_status()
    growth, seen = (hwm - before) / 1024, (sampler.highest - before) / 1024
    return transfer.mib_per_second, growth, seen, cpu_per_gib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    print(f"/upload of {options.size_mib} MiB, {options.rounds} rounds, against dd", flush=True)
    with work_folder(BENCH) as work, Servers(work) as servers:
        root = work / "root"
        root.mkdir()
        docrelay = servers.docrelay(root)
        dd_speeds, speeds, growths, sampled, cpu = [], [], [], [], []
        for index in range(options.rounds):
            dd_speeds.append(run_dd(work / "dd.bin", options.size_mib))
            speed, growth, seen, cpu_per_gib = upload(docrelay, options.size_mib, index)
            speeds.append(speed)
            cpu.append(cpu_per_gib)
            growths.append(growth)
            sampled.append(seen)
            print(
                f"  round {index + 1}: dd {dd_speeds[-1]:6.0f} MiB/s, docrelay {speed:6.0f} "
                f"MiB/s ({cpu_per_gib:.2f} CPU s/GiB), peak growth {growth:5.1f} MiB "
                f"(sampled {seen:5.1f} MiB)",
                flush=True,
            )
        ratio = median(speeds) / median(dd_speeds)
        record(BENCH, "docrelay / dd", ratio, target=">= 0.8", ok=ratio >= 0.8)
        record(
            BENCH,
            "docrelay CPU seconds per GiB received",
            median(cpu),
            detail=f"a ceiling of {1024 / median(cpu):.0f} MiB/s on one core",
        )
        growth = max(growths)
        record(
            BENCH,
            "peak memory growth MiB",
            growth,
            target="<= 64",
            ok=growth <= 64,
            detail=f"sampled VmRSS growth {max(sampled):.1f} MiB",
        )


if __name__ == "__main__":
    main()
