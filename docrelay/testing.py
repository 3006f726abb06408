"""A real ``docrelay serve`` in a subprocess, for the tests and the robustness runs.

It binds 127.0.0.1 and a free port (``--port 0``), whose number it reads from the
server's ``Listening on`` line; then it waits for ``/healthz``. The server's output is
read by threads as it comes, so that a talkative server never blocks on a full pipe.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx

_LISTENING = re.compile(r"Listening on http://127\.0\.0\.1:(\d+)")


def docrelay_program() -> str:
    """The ``docrelay`` command beside this interpreter (the project's venv)."""
    return str(Path(sys.executable).with_name("docrelay"))


class ServeProcess:
    """``docrelay serve --root ROOT`` with ``DOCRELAY_DATA_DIR=data_dir`` and ``env``.

    ``stdout`` and ``stderr`` hold the lines printed so far; a line of standard error that
    ``keep`` refuses is left out (e.g. the access log of a long run)."""

    def __init__(
        self,
        root: Path | str,
        data_dir: Path,
        env: dict[str, str],
        *,
        port: int = 0,
        keep: Callable[[str], bool] = lambda _line: True,
        timeout: float = 30,
    ) -> None:
        self.root = root
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._keep = keep
        command = [docrelay_program(), "serve", "--root", str(root), "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(port)],
            env={**os.environ, "DOCRELAY_DATA_DIR": str(data_dir), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines, keep), daemon=True)
            for stream, lines, keep in (
                (self.process.stdout, self.stdout, lambda _line: True),
                (self.process.stderr, self.stderr, keep),
            )
        ]
        for reader in self._readers:
            reader.start()
        self.port = self._wait_for_port(timeout)
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_until_healthy(timeout)

    def _read(self, stream: IO[str], lines: list[str], keep: Callable[[str], bool]) -> None:
        for line in stream:
            if keep(line) or _LISTENING.search(line):
                lines.append(line)
        stream.close()

    def _wait_for_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stderr):
                found = _LISTENING.search(line)
                if found:
                    return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("docrelay did not start:\n" + "".join(self.stderr))

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docrelay never answered /healthz:\n" + "".join(self.stderr))

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end; waits for its output to be read."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._finish()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self._finish()

    def _finish(self) -> None:
        self.process.wait(timeout=15)
        for reader in self._readers:
            reader.join(timeout=5)
