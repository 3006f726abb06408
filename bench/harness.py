"""What the benchmarks of ``bench/run`` share: servers on free ports, clients, results.

Every server is started by ``Servers`` (a context manager) and stopped when it exits;
its pid is also written to ``$BENCH_WORK/pids`` so that ``bench/run``'s trap can stop it
if Python itself is killed. Nothing here uses a fixed port or a shared temporary path.

Results are printed as they are measured and, when ``BENCH_RESULTS`` names a file,
appended to it as JSON lines for the summary table of ``bench/run``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
API_KEY = "bench-key-" + os.urandom(6).hex()
USER = "bench@example.com"
AUTH = {"apiKey": API_KEY, "username": USER}
_LISTENING = re.compile(rb"Listening on http://127\.0\.0\.1:(\d+)")


# --- places -------------------------------------------------------------------------


@contextlib.contextmanager
def work_folder(name: str) -> Iterator[Path]:
    """A fresh folder for one benchmark: under ``$BENCH_WORK`` (removed by bench/run's
    trap) or, run alone, a new temporary folder removed at the end."""
    parent = os.environ.get("BENCH_WORK")
    if parent:
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=parent))
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"docrelay-bench-{name}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    """A port free right now, for servers that cannot bind port 0 and report it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tool(name: str) -> str | None:
    """The path of a program, also looked for in /usr/sbin (nginx)."""
    found = shutil.which(name)
    if found is None and Path(f"/usr/sbin/{name}").exists():
        found = f"/usr/sbin/{name}"
    return found


def _version(command: list[str], pattern: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    match = re.search(pattern, done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024**2:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "nginx": _version([tool("nginx") or "nginx", "-v"], r"nginx/(\S+)"),
        "rclone": _version([tool("rclone") or "rclone", "version"], r"rclone (v\S+)"),
        "wrk": _version([tool("wrk") or "wrk", "--version"], r"wrk (\S+ \S+)"),
    }


# --- results ------------------------------------------------------------------------


def record(
    bench: str,
    measure: str,
    value: float,
    *,
    target: str = "",
    ok: bool | None = None,
    detail: str = "",
) -> None:
    """Print one measured ratio (or latency) and keep it for the summary."""
    verdict = "" if ok is None else ("  [meets target]" if ok else "  [SHORT of target]")
    shown_target = f"  (target {target})" if target else ""
    print(f"  => {measure}: {value:.3g}{shown_target}{verdict}", flush=True)
    results = os.environ.get("BENCH_RESULTS")
    if results:
        line = {
            "bench": bench,
            "measure": measure,
            "value": value,
            "target": target,
            "ok": ok,
            "detail": detail,
        }
        with open(results, "a") as handle:
            handle.write(json.dumps(line) + "\n")


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 200 values is the 198th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5 - 1e-9)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- servers ------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.port}{target}"

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


class ServerFailed(RuntimeError):
    pass


class Servers(contextlib.AbstractContextManager["Servers"]):
    """Starts servers in ``work`` and stops every one of them on exit."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.started: list[Server] = []

    def __enter__(self) -> Servers:
        # bench/run stops a benchmark with SIGTERM: exit through __exit__, which stops
        # the servers (Python's default for SIGTERM is to die on the spot).
        signal.signal(signal.SIGTERM, _exit_on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        for server in reversed(self.started):
            self.stop(server)

    def stop(self, server: Server) -> None:
        process = server.process
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if server in self.started:
            self.started.remove(server)

    def _spawn(
        self, name: str, command: list[str], env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.work / f"{name}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.work,
                start_new_session=True,  # a Ctrl-C reaches bench/run, which stops them
            )
        pids = os.environ.get("BENCH_PIDS")
        if pids:
            with open(pids, "a") as handle:
                handle.write(f"{process.pid}\n")
        return process, log

    def docrelay(
        self,
        root: Path,
        *,
        name: str = "docrelay",
        settings: dict[str, str] | None = None,
        command: list[str] | None = None,
        timeout: float = 120,
    ) -> Server:
        """``docrelay serve --port 0`` on ``root``, with its own data folder; the port is
        read from its ``Listening on`` line. ``command`` replaces the program (a bench
        launcher taking the same settings)."""
        data = self.work / f"{name}-data"
        env = dict(os.environ)
        env.update(
            {
                "DOCRELAY_API_KEY": API_KEY,
                "DOCRELAY_ROOT": str(root),
                "DOCRELAY_DATA_DIR": str(data),
            }
        )
        env.update(settings or {})
        program = command or [str(VENV_BIN / "docrelay"), "serve"]
        process, log = self._spawn(name, [*program, "--port", "0"], env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(log.read_bytes())
            if match:
                server = Server(name, process, int(match.group(1)), log)
                self.started.append(server)
                _wait_answering(server, "/healthz", deadline)
                return server
            if process.poll() is not None:
                break
            time.sleep(0.05)
        server = Server(name, process, 0, log)
        self.started.append(server)
        raise ServerFailed(f"{name} did not start:\n{server.tail()}")

    def nginx(self, root: Path, *, name: str = "nginx", server_block: str = "") -> Server:
        """Debian's nginx in the foreground with a throwaway configuration serving ``root``
        (plus ``server_block`` lines), on a free port."""
        binary = tool("nginx")
        if binary is None:
            raise ServerFailed("nginx is not installed (apt-get install nginx-light)")
        folder = self.work / name
        folder.mkdir(exist_ok=True)
        for attempt in range(5):
            port = free_port()
            conf = folder / "nginx.conf"
            conf.write_text(_nginx_conf(folder, root, port, server_block))
            process, log = self._spawn(name, [binary, "-c", str(conf), "-e", str(log_of(folder))])
            server = Server(name, process, port, log, {"conf": conf})
            self.started.append(server)
            try:
                _wait_answering(server, "/", time.monotonic() + 10)
                return server
            except ServerFailed:
                self.stop(server)
                if attempt == 4:
                    raise ServerFailed(
                        f"nginx did not start:\n{log_of(folder).read_text()}"
                    ) from None
        raise AssertionError("unreachable")

    def rclone(self, root: Path, *, name: str = "rclone") -> Server:
        """``rclone serve http`` on ``root`` on a free port, with an empty configuration."""
        binary = tool("rclone")
        if binary is None:
            raise ServerFailed("rclone is not installed (apt-get install rclone)")
        config = self.work / f"{name}.conf"
        config.touch()
        for attempt in range(5):
            port = free_port()
            command = [
                binary,
                "serve",
                "http",
                "--config",
                str(config),
                "--addr",
                f"127.0.0.1:{port}",
                "--read-only",
                str(root),
            ]
            process, log = self._spawn(name, command)
            server = Server(name, process, port, log)
            self.started.append(server)
            try:
                _wait_answering(server, "/", time.monotonic() + 15)
                return server
            except ServerFailed:
                self.stop(server)
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def log_of(folder: Path) -> Path:
    return folder / "error.log"


def _nginx_conf(folder: Path, root: Path, port: int, server_block: str) -> str:
    temp = {kind: folder / kind for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    # As root, nginx's workers would run as nobody, who cannot enter a 0700 temp folder.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""daemon off;
{user}worker_processes auto;  # as Debian ships it
pid {folder / "nginx.pid"};
error_log {log_of(folder)} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    server {{
        listen 127.0.0.1:{port};
        root {root};
{server_block}
    }}
}}
"""


def _wait_answering(server: Server, target: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerFailed(f"{server.name} exited:\n{server.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1) as sock:
                sock.sendall(
                    f"GET {target} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode()
                )
                if sock.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise ServerFailed(f"{server.name} does not answer on port {server.port}:\n{server.tail()}")


# --- process memory -----------------------------------------------------------------


def status_kib(pid: int, field_name: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and of its live children (nginx's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(child) for child in (task / "children").read_text().split()]
    for each in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total
