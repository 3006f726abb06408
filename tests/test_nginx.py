"""The reverse-proxy example of docs/deploy.md, run against a real docrelay.

nginx (Debian's) serves deploy/nginx-docrelay.conf as written, with only its four
placeholders replaced: a throwaway certificate, a free port, and the upstream.
"""

import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import API_KEY, Server

EXAMPLE = Path(__file__).parent.parent / "deploy" / "nginx-docrelay.conf"
GUIDE = Path(__file__).parent.parent / "docs" / "deploy.md"

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _need(binary: str) -> str:
    found = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is required in CI (scripts/test installs it)")
        pytest.skip(f"{binary} is not installed")
    return found


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "docs.crt", folder / "docs.key"
    subprocess.run(
        [
            _need("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=docs.example.com",
            "-addext",
            "subjectAltName=DNS:docs.example.com",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextlib.contextmanager
def _proxy(
    tmp_path: Path, start_server: Callable[..., Server], **env: str
) -> Iterator[tuple[str, Server, Path]]:
    """docrelay on ``tmp_path/documents`` behind nginx running the example as written."""
    nginx = _need("nginx")
    port = _free_port()
    root = tmp_path / "documents"
    root.mkdir()
    public_url = f"https://docs.example.com:{port}"
    server = start_server(
        root, tmp_path / "data", DOCRELAY_API_KEY=API_KEY, DOCRELAY_PUBLIC_URL=public_url, **env
    )
    cert, key = _certificate(tmp_path)
    site = EXAMPLE.read_text()
    site = site.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{server.port};")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;")
    site = site.replace("/etc/ssl/docs.example.com.crt", str(cert))
    site = site.replace("/etc/ssl/docs.example.com.key", str(key))
    site = site.replace("alias /srv/documents/;", f"alias {root}/;")
    temp = tmp_path / "nginx"
    temp.mkdir()
    # as root, nginx's workers would be nobody, who cannot read pytest's private folders
    user = "user root;\n" if os.geteuid() == 0 else ""
    (temp / "nginx.conf").write_text(
        f"{user}daemon off;\npid {temp}/nginx.pid;\nerror_log {temp}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {temp}/body;\n"
        f" proxy_temp_path {temp}/proxy;\n fastcgi_temp_path {temp}/fcgi;\n"
        f" uwsgi_temp_path {temp}/uwsgi;\n scgi_temp_path {temp}/scgi;\n{site}\n}}\n"
    )
    process = subprocess.Popen([nginx, "-p", str(temp), "-c", str(temp / "nginx.conf")])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"https://127.0.0.1:{port}", server, cert
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def proxied(
    tmp_path: Path, start_server: Callable[..., Server]
) -> Iterator[tuple[str, Server, Path]]:
    with _proxy(tmp_path, start_server) as proxy:
        yield proxy


@pytest.fixture
def accelerated(
    tmp_path: Path, start_server: Callable[..., Server]
) -> Iterator[tuple[str, Server, Path]]:
    """The same, with nginx sending the downloads (accel_redirect)."""
    with _proxy(tmp_path, start_server, DOCRELAY_ACCEL_REDIRECT="/.docrelay-files/") as proxy:
        yield proxy


def test_the_guide_shows_the_tested_example() -> None:
    assert EXAMPLE.read_text().strip() in GUIDE.read_text()


def test_workfront_through_the_proxy(proxied: tuple[str, Server, Path]) -> None:
    url, _server, _cert = proxied
    headers = {"apiKey": API_KEY, "username": "ada@example.com"}
    # The throwaway certificate names docs.example.com while we connect to 127.0.0.1.
    with httpx.Client(verify=False, timeout=60, trust_env=False) as http:
        base = f"{url}/api"
        assert http.get(f"{base}/serviceInfo").json()["webhookVersion"] == "1.2"
        assert http.get(f"{url}/metrics").status_code == 404  # not exposed by the proxy
        reserved = http.post(
            f"{base}/uploadInit", headers=headers, params={"filename": "big.bin"}
        ).json()
        assert reserved["viewLink"].startswith("https://docs.example.com:")
        content = hashlib.sha256(b"seed").digest() * (8 * 1024 * 1024 // 32)  # 8 MiB
        put = http.put(
            f"{base}/upload",
            headers=headers,
            params={"id": reserved["id"]},
            content=iter([content[i : i + 65536] for i in range(0, len(content), 65536)]),
        )
        assert put.json() == {"result": "success"}
        whole = http.get(f"{base}/download", headers=headers, params={"id": reserved["id"]})
        assert whole.content == content
        assert whole.headers.get("content-encoding") is None
        part = http.get(
            f"{base}/download",
            headers={**headers, "Range": "bytes=10-19"},
            params={"id": reserved["id"]},
        )
        assert part.status_code == 206 and part.content == content[10:20]
        assert re.match(r"attachment; filename=", part.headers["content-disposition"])


def test_nginx_sends_the_downloads_docrelay_authorises(
    accelerated: tuple[str, Server, Path],
) -> None:
    url, server, _cert = accelerated
    headers = {"apiKey": API_KEY, "username": "ada@example.com"}
    root = Path(server.root)
    name = "Q3 plan: 50% done? #1 é.pdf"
    content = hashlib.sha256(b"accel").digest() * 40_000  # 1.25 MiB
    (root / "shared").mkdir()
    (root / "shared" / name).write_bytes(content)
    with httpx.Client(verify=False, timeout=60, trust_env=False) as http:
        base = f"{url}/api"
        [folder] = http.get(f"{base}/files", headers=headers, params={"parentId": "/"}).json()
        [item] = http.get(
            f"{base}/files", headers=headers, params={"parentId": folder["id"]}
        ).json()
        whole = http.get(f"{base}/download", headers=headers, params={"id": item["id"]})
        assert whole.status_code == 200, whole.text
        assert whole.content == content
        assert "x-accel-redirect" not in whole.headers
        assert whole.headers["content-type"] == "application/pdf"
        assert whole.headers["content-disposition"].startswith("attachment; filename=")
        assert "filename*=UTF-8''" in whole.headers["content-disposition"]
        assert whole.headers["x-content-type-options"] == "nosniff"
        assert whole.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert whole.headers["cache-control"] == "private, no-cache"
        etag = whole.headers["etag"]
        part = http.get(
            f"{base}/download",
            headers={**headers, "Range": "bytes=1000-1999"},
            params={"id": item["id"]},
        )
        assert part.status_code == 206 and part.content == content[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(content)}"
        again = http.get(
            f"{base}/download",
            headers={**headers, "If-None-Match": etag},
            params={"id": item["id"]},
        )
        assert again.status_code == 304 and again.content == b""
        head = http.head(f"{base}/download", headers=headers, params={"id": item["id"]})
        assert head.status_code == 200 and head.headers["content-length"] == str(len(content))
        link = http.get(item["downloadLink"].replace(public_origin(item), url))
        assert link.status_code == 200 and link.content == content
        # docrelay still decides who gets what, and that the file is still there
        refused = http.get(
            f"{base}/download", headers={**headers, "apiKey": "wrong"}, params={"id": item["id"]}
        )
        assert refused.status_code == 403 and refused.content != content
        assert http.get(f"{url}/.docrelay-files/shared/x.pdf").status_code == 404
        assert http.get(f"{url}/.docrelay-files/").status_code == 404
        (root / "shared" / name).unlink()
        gone = http.get(f"{base}/download", headers=headers, params={"id": item["id"]})
        assert gone.status_code == 404 and gone.json()["status"] == "error"


def public_origin(item: dict[str, str]) -> str:
    """The scheme, host and port of the item's links (the public URL, not this client's)."""
    scheme, _, rest = item["downloadLink"].partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
