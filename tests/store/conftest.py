"""One fixture per store back-end: a fresh, empty root per test, on servers per session.

A back-end whose server or package is missing is skipped with the reason, except under
``CI=true``, where every store's suite must run and a missing one fails.
"""

import importlib.util
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from docrelay.store import Store, open_store
from docrelay.store.fsspec import WRITE_BLOCK, FsspecStore
from store.services import (
    Server,
    closed_port,
    program,
    sshd_program,
    start_moto,
    start_sshd,
    start_wsgidav,
)

CI = os.environ.get("CI") == "true"
BUCKET = "docrelay-test"


def require(found: object, what: str) -> None:
    if found:
        return
    if CI:
        pytest.fail(f"{what} is missing; CI runs every store's suite")
    pytest.skip(f"{what} is missing")


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@dataclass
class Backend:
    """A store under test and what the suite needs to know of it."""

    make: Callable[[], Store]  # a new store object on the same root (a new connection)
    raw_names: Callable[[tuple[str, ...]], list[str]]  # every name, docrelay's own too
    unreachable: Callable[[], Store] | None = None  # the same kind, pointed at nothing
    streams: bool = True  # neither direction holds a file whole in memory
    subsecond_etags: bool = True  # a same-size rewrite within a second changes the ETag
    part_size: int = 0  # the bytes an upload holds in memory at a time, if that many
    opened: list[Store] | None = None

    def __post_init__(self) -> None:
        self.opened = []
        inner = self.make

        def make() -> Store:
            store = inner()
            store.check()
            assert self.opened is not None
            self.opened.append(store)
            return store

        self.make = make

    def close(self) -> None:
        for store in self.opened or []:
            if isinstance(store, FsspecStore):
                store.close()


def _disk_names(base: Path) -> Callable[[tuple[str, ...]], list[str]]:
    return lambda folder: sorted(os.listdir(base.joinpath(*folder)))


def _fs_names(store_of: Callable[[], Store]) -> Callable[[tuple[str, ...]], list[str]]:
    def names(folder: tuple[str, ...]) -> list[str]:
        store = store_of()
        assert isinstance(store, FsspecStore)
        path = store.under(*folder)
        store.fs.invalidate_cache()
        listed = store.fs.ls(path, detail=False)
        return sorted(name.rstrip("/").rsplit("/", 1)[-1] for name in listed)

    return names


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    chosen: Backend = request.getfixturevalue(f"{request.cls.backend}_backend")
    yield chosen
    chosen.close()


@pytest.fixture
def local_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "root"

    def unreachable() -> Store:
        gone = tmp_path / "gone"
        store = open_store(str(gone))
        gone.rmdir()
        return store

    return Backend(lambda: open_store(str(root)), _disk_names(root), unreachable)


@pytest.fixture
def memory_backend() -> Iterator[Backend]:
    name = f"docrelay-{uuid.uuid4().hex}"
    stores: list[Store] = []

    def make() -> Store:
        stores.append(open_store(f"memory://{name}"))
        return stores[-1]

    yield Backend(make, _fs_names(lambda: stores[0]), streams=False)
    from fsspec.implementations.memory import MemoryFileSystem

    if MemoryFileSystem().exists(f"/{name}"):
        MemoryFileSystem().rm(f"/{name}", recursive=True)


# -- S3 against moto's server --------------------------------------------------------


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require(has_module("s3fs") and program("moto_server"), "s3fs or moto[server]")
    server = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        store = open_store(f"s3://{BUCKET}", s3_options(server.port))
        assert isinstance(store, FsspecStore)
        store.fs.call_s3("create_bucket", Bucket=BUCKET)
        yield server
    finally:
        server.stop()


def s3_options(port: int, **more: Any) -> dict[str, Any]:
    return {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "key": "testing",
        "secret": "testing",
        "region": "us-east-1",
        **more,
    }


@pytest.fixture
def s3_backend(moto: Server) -> Backend:
    url = f"s3://{BUCKET}/t-{uuid.uuid4().hex[:12]}"
    first: list[Store] = []

    def make() -> Store:
        first.append(open_store(url, s3_options(moto.port)))
        return first[-1]

    def unreachable() -> Store:
        quick = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2}}
        return open_store(url, s3_options(closed_port(), **quick))

    return Backend(make, _fs_names(lambda: first[0]), unreachable, part_size=WRITE_BLOCK)


# -- SFTP against OpenSSH's sshd -----------------------------------------------------


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require(has_module("sshfs"), "sshfs")
    require(sshd_program() and shutil.which("ssh-keygen"), "openssh-server (sshd)")
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sftp_backend(sshd: Server, tmp_path: Path) -> Backend:
    root = tmp_path / "sftp-root"
    options = {"key_filename": sshd.extra["client_key"], "known_hosts": sshd.extra["known_hosts"]}

    def url(port: int) -> str:
        return f"sftp://{sshd.extra['user']}@127.0.0.1:{port}{root}"

    return Backend(
        lambda: open_store(url(sshd.port), options),
        _disk_names(root),
        lambda: open_store(url(closed_port()), options),
    )


# -- WebDAV against wsgidav -----------------------------------------------------------


@pytest.fixture(scope="session")
def wsgidav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require(has_module("webdav4") and program("wsgidav"), "webdav4 or wsgidav")
    server = start_wsgidav(tmp_path_factory.mktemp("wsgidav"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def webdav_backend(wsgidav: Server) -> Backend:
    name = f"t-{uuid.uuid4().hex[:12]}"
    return Backend(
        lambda: open_store(f"webdav+http://127.0.0.1:{wsgidav.port}/{name}"),
        _disk_names(Path(wsgidav.extra["folder"]) / name),
        lambda: open_store(f"webdav+http://127.0.0.1:{closed_port()}/{name}"),
        subsecond_etags=False,
    )
