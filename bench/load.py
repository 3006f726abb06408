"""Many requests at once against one URL: requests per second and latency percentiles.

``wrk`` when it is installed (one thread, N connections, a fixed duration), otherwise an
asyncio httpx client (N connections, a fixed number of requests). Whichever is chosen
measures every server of a comparison, so the ratios hold.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from harness import percentile, tool

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class Load:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    tool: str


def load_tool() -> str:
    return "wrk" if tool("wrk") else "httpx"


def run_load(
    url: str,
    headers: Mapping[str, str],
    *,
    connections: int,
    seconds: float,
    requests: int,
) -> Load:
    if tool("wrk"):
        return _wrk(url, headers, connections, seconds)
    return asyncio.run(_httpx(url, headers, connections, requests))


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(url: str, headers: Mapping[str, str], connections: int, seconds: float) -> Load:
    command = [
        str(tool("wrk")),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "60s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 120, check=True
    )
    out = done.stdout
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if failures or (errors and re.search(r"[1-9]", errors.group(1))):
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(_distribution(out, "50"))
    p99 = _milliseconds(_distribution(out, "99"))
    return Load(total, rate, p50, p99, "wrk")


def _distribution(out: str, percent: str) -> str:
    """A line of wrk's "Latency Distribution" block, such as ``     99%   12.34ms``."""
    match = re.search(rf"^\s+{percent}%\s+(\S+)\s*$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no {percent}% line in wrk's output:\n{out}")
    return match.group(1)


async def _httpx(url: str, headers: Mapping[str, str], connections: int, requests: int) -> Load:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    times: list[float] = []
    left = requests

    async with httpx.AsyncClient(limits=limits, headers=dict(headers), timeout=60) as client:

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                started = time.perf_counter()
                response = await client.get(url)
                await response.aread()
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: status {response.status_code}")
                times.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return Load(
        len(times), len(times) / elapsed, percentile(times, 0.5), percentile(times, 0.99), "httpx"
    )
