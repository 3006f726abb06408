"""Store URLs → fsspec stores: one small function per scheme, each back-end imported lazily.

| URL | fsspec back-end | extra |
|---|---|---|
| ``s3://bucket/prefix`` | s3fs | ``s3`` |
| ``sftp://[user@]host[:port]/path`` | sshfs (asyncssh) | ``sftp`` |
| ``webdav+https://host[:port]/path``, ``webdav+http://…`` | webdav4 | ``webdav`` |
| ``az://container/prefix`` | adlfs | ``azure`` |
| ``gs://bucket/prefix`` | gcsfs | ``gcs`` |
| ``smb://[user@]host[:port]/share/path`` | smbprotocol | ``smb`` |
| ``memory://name`` | fsspec's memory file system (tests) | none |

Options come from the ``root_options`` setting and go to the back-end's constructor;
descriptions are built from the URL alone, so options (secrets) are never in them.
"""

import importlib
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from fsspec import AbstractFileSystem

from docrelay.errors import DocrelayError
from docrelay.store.fsspec import FsspecStore

Options = dict[str, Any]
_EXTRAS = {
    "s3fs": "s3",
    "sshfs": "sftp",
    "webdav4": "webdav",
    "adlfs": "azure",
    "gcsfs": "gcs",
    "smbprotocol": "smb",
}
SMB_REFUSED = '<>:"|?*'


class StoreSetupError(DocrelayError):
    """The root names a store docrelay cannot open as configured."""


def _module(name: str, package: str) -> Any:
    """Import a back-end, or say which extra brings it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        extra = _EXTRAS[package]
        raise StoreSetupError(
            f"This root needs the package {package!r}, which is not installed: "
            f'pip install "docrelay[{extra}]"'
        ) from error


def _path(parts: SplitResult) -> str:
    return unquote(parts.path).rstrip("/")


def _no_password(parts: SplitResult) -> None:
    if parts.password is not None:
        raise StoreSetupError(
            "Put the password in the root_options setting, not in the root URL "
            "(the root is logged; options are not)."
        )


def _s3(parts: SplitResult, options: Options) -> FsspecStore:
    s3fs = _module("s3fs", "s3fs")
    bucket, prefix = parts.netloc, _path(parts).strip("/")
    if not bucket:
        raise StoreSetupError("An S3 root names its bucket: s3://bucket/prefix.")
    kwargs = dict(options)
    client_kwargs = dict(kwargs.pop("client_kwargs", None) or {})
    region = kwargs.pop("region", None) or kwargs.pop("region_name", None)
    if region:
        client_kwargs["region_name"] = region
    kwargs.setdefault("use_listings_cache", False)

    def connect() -> AbstractFileSystem:
        fs: AbstractFileSystem = s3fs.S3FileSystem(
            skip_instance_cache=True, client_kwargs=client_kwargs, **kwargs
        )
        return fs

    where = f" at {options['endpoint_url']}" if options.get("endpoint_url") else ""
    root = f"{bucket}/{prefix}" if prefix else bucket
    return FsspecStore(connect, root, description=f"S3 s3://{root}{where}", folder_markers=True)


def _sftp(parts: SplitResult, options: Options) -> FsspecStore:
    _module("sshfs", "sshfs")
    from docrelay.store.sftp import SftpStore

    _no_password(parts)
    host = parts.hostname
    if not host:
        raise StoreSetupError("An SFTP root names its host: sftp://[user@]host[:port]/path.")
    kwargs = dict(options)
    key_filename = kwargs.pop("key_filename", None)
    if key_filename:
        kwargs["client_keys"] = [key_filename] if isinstance(key_filename, str) else key_filename
    if parts.username:
        kwargs["username"] = unquote(parts.username)
    if parts.port:
        kwargs["port"] = parts.port
    # sshfs turns host-key checking off by default; asyncssh's default (``()``) checks
    # ~/.ssh/known_hosts. ``"known_hosts": null`` in the options turns it off on purpose.
    kwargs.setdefault("known_hosts", ())
    kwargs.setdefault("connect_timeout", 20)
    kwargs.setdefault("keepalive_interval", 30)  # keeps idle connections through NAT
    user = f"{kwargs['username']}@" if kwargs.get("username") else ""
    port = f":{parts.port}" if parts.port else ""
    root = _path(parts) or "/"
    return SftpStore(
        lambda: SftpStore.connect_sshfs(host, kwargs),
        root,
        description=f"SFTP sftp://{user}{host}{port}{root}",
    )


def _webdav(parts: SplitResult, options: Options) -> FsspecStore:
    _module("webdav4.fsspec", "webdav4")
    from docrelay.store.webdav import WebdavStore

    _no_password(parts)
    scheme = parts.scheme.removeprefix("webdav+")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    base_url = f"{scheme}://{netloc}"
    root = _path(parts).strip("/")  # relative: webdav4 joins paths to the base URL
    kwargs = dict(options)
    user = kwargs.pop("username", None) or (unquote(parts.username) if parts.username else None)
    password = kwargs.pop("password", None)
    auth = (user, password or "") if user else None
    return WebdavStore(
        lambda: WebdavStore.connect_webdav4(base_url, auth, kwargs),
        root,
        description=f"WebDAV {base_url}/{root}" + (f" as {user}" if user else ""),
    )


def _generic(
    module: str, package: str, cls: str, *, markers: bool, refused: str = ""
) -> Callable[[SplitResult, Options], FsspecStore]:
    """A back-end whose root is ``netloc/path`` (buckets) or ``/path`` (SMB)."""

    def open_it(parts: SplitResult, options: Options) -> FsspecStore:
        backend = getattr(_module(module, package), cls)
        kwargs = dict(options)
        if markers:
            root = f"{parts.netloc}/{_path(parts).strip('/')}".rstrip("/")
            shown = f"{parts.scheme}://{root}"
        else:
            _no_password(parts)
            kwargs.setdefault("host", parts.hostname)
            if parts.port:
                kwargs.setdefault("port", parts.port)
            if parts.username:
                kwargs.setdefault("username", unquote(parts.username))
            root = _path(parts) or "/"
            shown = f"{parts.scheme}://{parts.hostname}{root}"

        def connect() -> AbstractFileSystem:
            fs: AbstractFileSystem = backend(skip_instance_cache=True, **kwargs)
            return fs

        store = FsspecStore(
            connect, root, description=shown, folder_markers=markers, refused_chars=refused
        )
        store.native_mv = not markers  # SMB's mv is smbclient.rename
        return store

    return open_it


def _memory(parts: SplitResult, options: Options) -> FsspecStore:
    from fsspec.implementations.memory import MemoryFileSystem

    root = "/" + f"{parts.netloc}{parts.path}".strip("/")
    return FsspecStore(
        lambda: MemoryFileSystem(**options), root, description=f"memory store {root}"
    )


SCHEMES: dict[str, Callable[[SplitResult, Options], FsspecStore]] = {
    "s3": _s3,
    "sftp": _sftp,
    "webdav+https": _webdav,
    "webdav+http": _webdav,
    "az": _generic("adlfs", "adlfs", "AzureBlobFileSystem", markers=True),
    "gs": _generic("gcsfs", "gcsfs", "GCSFileSystem", markers=True),
    "smb": _generic(
        "fsspec.implementations.smb",
        "smbprotocol",
        "SMBFileSystem",
        markers=False,
        refused=SMB_REFUSED,
    ),
    "memory": _memory,
}


def open_fsspec_store(url: str, options: Options | None = None) -> FsspecStore:
    """The store for a root URL; nothing is contacted until the store is first used."""
    parts = urlsplit(url)
    opener = SCHEMES.get(parts.scheme.lower())
    if opener is None:
        known = ", ".join(f"{scheme}://" for scheme in SCHEMES)
        raise StoreSetupError(f"Roots of the kind {parts.scheme!r} are not known; use {known}.")
    return opener(parts, dict(options or {}))
