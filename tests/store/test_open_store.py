"""Roots to stores: URL forms, options, install hints, secrets, and failure translation."""

import errno
import socket
import sys
from pathlib import Path

import pytest

from docrelay.config import Settings, load_settings
from docrelay.errors import StoreUnavailable
from docrelay.store import open_store
from docrelay.store.backends import StoreSetupError
from docrelay.store.failures import translate
from docrelay.store.fsspec import FsspecStore, entry_of
from docrelay.store.local import LocalStore

SECRET = "s3cr3t-value"


def test_folders_and_file_urls_are_local(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path / "a")), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path / 'b'}"), LocalStore)
    assert (tmp_path / "b").is_dir()


@pytest.mark.parametrize(
    ("url", "root", "shown"),
    [
        ("s3://bucket/some/prefix/", "bucket/some/prefix", "S3 s3://bucket/some/prefix"),
        ("s3://bucket", "bucket", "S3 s3://bucket"),
        ("sftp://ada@files.example.com:2222/srv/docs", "/srv/docs", "ada@files.example.com:2222"),
        ("sftp://files.example.com", "/", "sftp://files.example.com/"),
        ("webdav+https://dav.example.com/remote.php/dav/", "remote.php/dav", "https://dav"),
        ("webdav+http://127.0.0.1:8080/docs", "docs", "http://127.0.0.1:8080/docs"),
        ("memory://scratch", "/scratch", "memory"),
    ],
)
def test_store_urls(url: str, root: str, shown: str) -> None:
    store = open_store(url, {"password": SECRET, "secret": SECRET, "key": SECRET})
    assert isinstance(store, FsspecStore)
    assert store.root == root
    assert shown in store.description
    assert SECRET not in store.description


def test_object_stores_keep_folder_markers() -> None:
    s3 = open_store("s3://bucket/p")
    assert isinstance(s3, FsspecStore) and s3.folder_markers
    memory = open_store("memory://x")
    assert isinstance(memory, FsspecStore) and not memory.folder_markers


def test_passwords_belong_in_the_options() -> None:
    for url in ("sftp://ada:pw@host/path", "webdav+https://ada:pw@host/path"):
        with pytest.raises(StoreSetupError, match="root_options"):
            open_store(url)


def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(StoreSetupError, match="not known"):
        open_store("ftp://host/path")


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("s3://b/p", "s3fs", "s3"),
        ("sftp://host/p", "sshfs", "sftp"),
        ("webdav+https://host/p", "webdav4.fsspec", "webdav"),
        ("az://container/p", "adlfs", "azure"),
        ("gs://bucket/p", "gcsfs", "gcs"),
        ("smb://host/share/p", "fsspec.implementations.smb", "smb"),
    ],
)
def test_a_missing_package_names_its_extra(
    url: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    with pytest.raises(StoreSetupError, match=rf'pip install "docrelay\[{extra}\]"'):
        open_store(url)


def test_root_options_come_from_the_environment_and_never_print(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCRELAY_ROOT_OPTIONS", f'{{"password": "{SECRET}", "port": 22}}')
    settings, origins = load_settings()
    assert settings.root_options == {"password": SECRET, "port": 22}
    assert origins["root_options"] == "environment DOCRELAY_ROOT_OPTIONS"
    nested = Settings(root_options={"endpoint_url": "http://s3", "config": {"token": SECRET}})
    for shown in (repr(settings.root_options), str(nested.root_options), repr(nested)):
        assert SECRET not in shown
    assert "http://s3" in repr(nested.root_options)


def test_the_store_etag_wins_and_mtimes_come_under_any_name() -> None:
    from datetime import UTC, datetime

    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    s3 = entry_of("a", {"type": "file", "size": 3, "ETag": '"abc"', "LastModified": when})
    assert s3 is not None and s3.etag == "abc" and s3.mtime_ns == int(when.timestamp()) * 10**9
    sftp = entry_of("a", {"type": "file", "size": 3, "mtime": when})
    assert sftp is not None and sftp.etag == f"3-{sftp.mtime_ns:x}"
    assert entry_of("a", {"type": "file", "size": 1, "updated": "2024-05-06T07:08:09Z"})
    assert entry_of("link", {"type": "link", "size": 1}) is None


def _client_error(status: int) -> Exception:
    from botocore.exceptions import ClientError

    response = {
        "Error": {"Code": "X", "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetObject")  # type: ignore[arg-type]


def test_failures_are_translated_by_type() -> None:
    pytest.importorskip("botocore")
    assert isinstance(translate(ConnectionRefusedError()), StoreUnavailable)
    assert isinstance(translate(TimeoutError()), StoreUnavailable)
    assert isinstance(translate(socket.gaierror(-2, "Name or service not known")), StoreUnavailable)
    assert isinstance(translate(OSError(errno.EHOSTUNREACH, "no route")), StoreUnavailable)
    assert isinstance(translate(_client_error(503)), StoreUnavailable)
    assert isinstance(translate(_client_error(403)), PermissionError)
    assert isinstance(translate(_client_error(404)), FileNotFoundError)
    wrapped = OSError(errno.EIO, "wrapped")
    wrapped.__cause__ = _client_error(500)
    assert isinstance(translate(wrapped), StoreUnavailable)
    missing = FileNotFoundError(errno.ENOENT, "gone")
    assert translate(missing) is missing
    other = ValueError("a bug")
    assert translate(other) is other


def test_webdav_and_ssh_failures_are_translated() -> None:
    pytest.importorskip("webdav4")
    pytest.importorskip("asyncssh")
    import asyncssh
    import httpx
    from webdav4.client import HTTPError

    request = httpx.Request("GET", "http://dav.test/")
    assert isinstance(translate(HTTPError(httpx.Response(502, request=request))), StoreUnavailable)
    denied = translate(HTTPError(httpx.Response(401, request=request)))
    assert isinstance(denied, PermissionError)
    assert isinstance(translate(httpx.ConnectError("refused")), StoreUnavailable)
    assert isinstance(translate(asyncssh.ConnectionLost("gone")), StoreUnavailable)
    assert isinstance(translate(asyncssh.PermissionDenied("no")), PermissionError)


def test_a_url_that_lost_a_slash_is_refused_not_made_a_folder(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from docrelay.store import open_store
    from docrelay.store.backends import StoreSetupError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreSetupError, match="s3://bucket"):
        open_store("s3:/bucket/prefix")
    assert list(tmp_path.iterdir()) == []
