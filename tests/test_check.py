"""``docrelay check`` against real servers on free ports: it passes against a fresh one
(ApiKey with --write, and OAuth2), and fails with a clear reason against a wrong key,
an unreachable store, a wrong public URL, nothing listening, and a bad certificate."""

import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server
from typer.testing import CliRunner

from docrelay.check.target import transport_reason
from docrelay.cli import app

KEY = "check-test-key-0123456789"
USER = "ada@example.com"
NAME = "grace@example.com"
PASSWORD = "correct horse battery"
REDIRECT = "https://wf.example.com/oauth/callback"
Start = Callable[..., Server]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _documents(base: Path) -> Path:
    root = base / "documents"
    (root / "Projects").mkdir(parents=True)
    (root / "Projects" / "Quarterly report.txt").write_text("Figures for 2024.\n")
    (root / "readme.txt").write_text("Read me first.\n")
    return root


def _visible(root: Path) -> set[str]:
    """Every path under the root but docrelay's own (.~docrelay…: trash, temporaries)."""
    paths = (path.relative_to(root) for path in root.rglob("*"))
    return {str(path) for path in paths if not any(p.startswith(".~docrelay") for p in path.parts)}


def _env(**extra: str) -> dict[str, str]:
    values = {"DOCRELAY_CRAWL_INTERVAL": "0", "DOCRELAY_WATCH": "false", "NO_PROXY": "127.0.0.1"}
    return {**values, **extra}


def _serve(start: Start, tmp_path: Path, **env: str) -> Server:
    return start(_documents(tmp_path), tmp_path / "data", **_env(DOCRELAY_API_KEY=KEY, **env))


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", *args], input=stdin)
    return result.exit_code, result.stdout


def check(*args: str, stdin: str | None = None) -> tuple[int, dict[str, dict[str, Any]], str]:
    code, out = run(*args, "--json", stdin=stdin)
    report = json.loads(out)
    return code, {step["step"]: step for step in report["steps"]}, out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_key(server: Server) -> str:
    """The key a fresh ``docrelay serve`` makes and prints once (stdout is drained by a
    thread of its own, so it may come a moment after the server answers)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in list(server.stdout):
            if "API key:" in line:
                return line.split(":", 1)[1].strip()
        time.sleep(0.02)
    raise AssertionError("no key printed:\n" + "".join(server.stdout))


@pytest.mark.server
def test_passes_against_a_fresh_server_and_leaves_nothing_behind(
    start_server: Start, tmp_path: Path
) -> None:
    server = start_server(_documents(tmp_path), tmp_path / "data", **_env())
    key = _first_key(server)
    before = _visible(tmp_path / "documents")
    code, steps, out = check(server.url, "--api-key", key, "--username", USER, "--write")
    assert code == 0, out
    assert {step["status"] for step in steps.values()} == {"pass"}, out
    assert {"reach", "metadata", "links", "range", "create_folder", "clean_up"} <= set(steps)
    assert steps["clean_up"]["reason"] == "nothing left behind"
    assert _visible(tmp_path / "documents") == before
    assert key not in out

    code, table = run(f"{server.url}/api/", "--api-key", key, "--username", USER)
    assert code == 0, table
    assert "ready to register" in table and "0 failed" in table and key not in table


def _register(data_dir: Path) -> tuple[str, str]:
    runner, where = CliRunner(), ["--data-dir", str(data_dir)]
    added = runner.invoke(app, ["users", "add", NAME, "--password-stdin", *where], input=PASSWORD)
    assert added.exit_code == 0, added.output
    client = runner.invoke(app, ["clients", "add", "--redirect-uri", REDIRECT, *where])
    assert client.exit_code == 0, client.output
    lines = [line.strip().split(":", 1) for line in client.output.splitlines() if ":" in line]
    fields = {name.strip(): value.strip() for name, value in lines}
    return fields["Client ID"], fields["Client Secret"]


@pytest.mark.server
def test_passes_against_an_oauth2_server(start_server: Start, tmp_path: Path) -> None:
    client_id, secret = _register(tmp_path / "data")
    env = _env(DOCRELAY_AUTH="oauth2")
    server = start_server(_documents(tmp_path), tmp_path / "data", **env)
    oauth = ["--client-id", client_id, "--client-secret", secret, "--user", NAME]
    args = [server.url, *oauth, "--redirect-uri", REDIRECT, "--password-stdin", "--write"]
    code, steps, out = check(*args, stdin=PASSWORD + "\n")
    assert code == 0, out
    assert {step["status"] for step in steps.values()} == {"pass"}, out
    assert {"oauth_authorize", "oauth_token", "oauth_refresh"} <= set(steps)
    assert "same state" in steps["oauth_authorize"]["reason"]
    assert "refused" not in steps["oauth_refresh"]["reason"]
    assert secret not in out and PASSWORD not in out

    code, steps, out = check(*args[:-1], stdin="not the password\n")
    assert code == 1
    assert "signing in as 'grace@example.com' failed" in steps["oauth_authorize"]["reason"]
    assert steps["root"]["status"] == "skip"


@pytest.mark.server
def test_a_wrong_key_fails_authentication(start_server: Start, tmp_path: Path) -> None:
    server = _serve(start_server, tmp_path)
    code, steps, out = check(server.url, "--api-key", "not-the-key", "--username", USER)
    assert code == 1
    assert steps["auth"]["status"] == "fail"
    assert steps["auth"]["reason"].startswith("the API key (acting user 'ada@example.com') was")
    assert "403" in steps["auth"]["reason"]
    assert steps["root"]["status"] == "skip" and "'authentication'" in steps["root"]["reason"]
    assert "not-the-key" not in out


@pytest.mark.server
def test_an_unreachable_store_is_named(start_server: Start, tmp_path: Path) -> None:
    server = _serve(start_server, tmp_path)
    (tmp_path / "documents").rename(tmp_path / "moved-away")
    code, steps, _out = check(server.url, "--api-key", KEY, "--username", USER, "--write")
    assert code == 1
    assert steps["auth"]["status"] == "pass"
    assert steps["root"]["status"] == "fail"
    assert steps["root"]["reason"].startswith("the store behind docrelay is unreachable")
    assert "503" in steps["root"]["reason"]
    assert steps["clean_up"]["status"] == "pass"


@pytest.mark.server
def test_a_wrong_public_url_is_named(start_server: Start, tmp_path: Path) -> None:
    other = f"http://127.0.0.1:{_free_port()}"
    server = _serve(start_server, tmp_path, DOCRELAY_PUBLIC_URL=other)
    code, steps, out = check(f"{server.url}/api", "--api-key", KEY, "--username", USER)
    assert code == 1, out
    reason = steps["metadata"]["reason"]
    assert f"links point to {other} but the server was reached at {server.url}" in reason, out
    assert "set public_url" in reason
    assert steps["links"]["status"] == "skip"
    assert steps["download"]["status"] == "pass", out


def test_nothing_listening_is_a_refused_connection() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    code, steps, _out = check(url, "--api-key", KEY, "--username", USER)
    assert code == 1
    assert steps["reach"]["reason"] == f"connection refused by {url}: nothing listens there"
    assert {step["status"] for key, step in steps.items() if key != "reach"} == {"skip"}


@pytest.mark.parametrize(
    "args",
    [
        ["http://127.0.0.1:1"],
        ["http://127.0.0.1:1", "--api-key", KEY],
        ["http://127.0.0.1:1", "--api-key", KEY, "--username", USER, "--user", NAME],
        ["http://127.0.0.1:1", "--client-id", "c", "--client-secret", "s", "--user", NAME],
        ["ftp://127.0.0.1:1", "--api-key", KEY, "--username", USER],
        ["http://127.0.0.1:1", "--api-key", KEY, "--username", USER, "--timeout", "0"],
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exit_code == 2, result.output


def _raised(outer: httpx.HTTPError, inner: BaseException) -> httpx.HTTPError:
    outer.__context__ = inner  # as httpx raises it: from within the handler of ``inner``
    return outer


def test_reasons_for_dns_and_time_outs() -> None:
    dns = _raised(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known"))
    where = "https://docs.example.com"
    assert transport_reason(dns, where, 10) == (
        "the name docs.example.com does not resolve (DNS): Name or service not known"
    )
    slow = transport_reason(httpx.ConnectTimeout("x"), where, 2.5)
    assert slow.startswith(f"no connection to {where} within 2.5 s")
    assert (
        transport_reason(httpx.ReadTimeout("x"), where, 3) == f"{where} did not answer within 3 s"
    )


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server on a free port with a self-signed certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "docrelay test")])
    now = datetime.datetime.now(datetime.UTC)
    ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([ip]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert_file
    server.shutdown()
    server.server_close()


def test_a_certificate_error_is_named(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert_file = tls_server
    code, steps, _out = check(url, "--api-key", KEY, "--username", USER, "--timeout", "5")
    assert code == 1
    assert steps["reach"]["reason"].startswith(f"the TLS certificate of {url} is not valid")

    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # now trusted: TLS passes
    code, steps, _out = check(url, "--api-key", KEY, "--username", USER, "--timeout", "5")
    assert steps["reach"]["status"] == "pass", steps["reach"]
    assert steps["reach"]["reason"].startswith("TLSv1.")
    assert steps["service_info"]["status"] == "fail"


def test_skips_name_the_failure_and_clean_up_runs_even_when_interrupted() -> None:
    from docrelay.check.runner import Step, StepFailed, run_steps

    ran: list[str] = []

    def fail(_state: None) -> str:
        raise StepFailed("no")

    def interrupt(_state: None) -> str:
        raise KeyboardInterrupt

    def clean(_state: None) -> str:
        ran.append("clean")
        return "cleaned"

    steps = [
        Step[None]("a", "first", fail),
        Step[None]("b", "second", lambda _state: "yes", ("a",)),
        Step[None]("c", "third", lambda _state: "yes", ("b",)),
    ]
    results = run_steps(steps, None)
    assert [result.status for result in results] == ["fail", "skip", "skip"]
    assert results[2].reason == "needs 'second'; 'first' failed"

    with pytest.raises(KeyboardInterrupt):
        run_steps(
            [Step[None]("i", "interrupted", interrupt), Step("z", "clean", clean, always=True)],
            None,
        )
    assert ran == ["clean"]
