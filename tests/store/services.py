"""The stores' servers, started for the tests on free 127.0.0.1 ports and stopped after.

moto's S3 server and wsgidav run as child processes (not threads): the memory test
measures this process's allocations, which a server in it would blur.
"""

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port() -> int:
    """A port on which nothing listens (free a moment ago)."""
    return free_port()


def program(name: str, *candidates: str) -> str | None:
    for candidate in (str(BIN / name), *candidates):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(command: list[str], port: int, log: Path, timeout: float = 30) -> Server:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return Server(process, port, log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command[0]} did not listen on {port}: {log.read_text()}")


def start_moto(work: Path) -> Server:
    exe = program("moto_server")
    assert exe, "moto_server is missing"
    port = free_port()
    return _start([exe, "-H", "127.0.0.1", "-p", str(port)], port, work / "moto.log")


def start_wsgidav(work: Path) -> Server:
    exe = program("wsgidav")
    assert exe, "wsgidav is missing"
    port = free_port()
    served = work / "dav"
    served.mkdir()
    command = [exe, "--host", "127.0.0.1", "--port", str(port), "--root", str(served)]
    server = _start([*command, "--auth", "anonymous", "-q"], port, work / "wsgidav.log")
    server.extra["folder"] = str(served)
    return server


SSHD_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {work}/host_key
PidFile {work}/sshd.pid
AuthorizedKeysFile {work}/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
"""


def sshd_program() -> str | None:
    return program("sshd", "/usr/sbin/sshd")


def start_sshd(work: Path) -> Server:
    """OpenSSH's sshd as this user, with throwaway host and client keys in ``work``.

    Run as root, it needs ``PermitRootLogin prohibit-password`` (key only) and the
    privilege separation folder that Debian's package makes at service start.
    """
    exe = sshd_program()
    assert exe, "sshd is missing"
    for key in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / key)], check=True
        )
    shutil.copy(work / "client_key.pub", work / "authorized_keys")
    port = free_port()
    config = work / "sshd_config"
    config.write_text(SSHD_CONFIG.format(port=port, work=work))
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    server = _start([exe, "-D", "-e", "-f", str(config)], port, work / "sshd.log")
    host_key = (work / "host_key.pub").read_text().split()
    known_hosts = work / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    server.extra.update(
        user=getpass.getuser(), client_key=str(work / "client_key"), known_hosts=str(known_hosts)
    )
    return server
