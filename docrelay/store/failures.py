"""Backend exceptions in the store contract's terms, decided at one place.

fsspec back-ends already raise ``FileNotFoundError``, ``FileExistsError`` and the like
for most outcomes; what they let through are their libraries' own exceptions (botocore,
asyncssh, paramiko, httpx, webdav4, aiohttp, azure-core, gcsfs). ``translate`` maps each
by its type (and HTTP status where the type carries one) to:

- ``StoreUnavailable`` when the store cannot be reached or answers with a server error
  (connection refused, DNS failure, time-out, lost connection, HTTP 5xx);
- ``FileNotFoundError`` for a missing key, ``PermissionError`` for access denied,
  ``FileExistsError`` for a taken name.

Library modules are looked up in ``sys.modules`` only: an exception of a library that
was never imported cannot be raised, so nothing here imports a back-end.
"""

import errno
import functools
import logging
import socket
import sys
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

from docrelay.errors import StoreUnavailable

log = logging.getLogger("docrelay.store")

P = ParamSpec("P")
R = TypeVar("R")

# The contract's own types pass through unchanged.
_CONTRACT = (
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    StoreUnavailable,
)
_UNREACHABLE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTDOWN,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.ENETUNREACH,
    errno.ENOTCONN,
    errno.EPIPE,
    errno.ETIMEDOUT,
}
_BUILT_IN_UNREACHABLE = (ConnectionError, TimeoutError, socket.gaierror, socket.herror)
# (module, class names) whose instances always mean "cannot reach the store".
_UNREACHABLE_TYPES = [
    ("botocore.exceptions", ("HTTPClientError", "ConnectionError", "NoCredentialsError")),
    ("asyncssh", ("DisconnectError", "ConnectionLost", "ChannelOpenError")),
    ("asyncssh.sftp", ("SFTPConnectionLost", "SFTPNoConnection")),
    ("paramiko", ("SSHException",)),
    ("httpx", ("TransportError",)),
    ("aiohttp", ("ClientConnectionError",)),
    ("azure.core.exceptions", ("ServiceRequestError", "ServiceResponseError")),
    ("smbprotocol.exceptions", ("SMBConnectionClosed",)),
    ("webdav4.client", ("InsufficientStorage", "BadGatewayError")),
]
_PERMISSION_TYPES = [
    ("asyncssh", ("PermissionDenied",)),
    ("asyncssh.sftp", ("SFTPPermissionDenied", "SFTPWriteProtect")),
    ("paramiko", ("AuthenticationException",)),
    ("webdav4.client", ("ForbiddenOperation", "ResourceLocked")),
]
_SIMPLE_TYPES: list[tuple[str, tuple[str, ...], type[OSError]]] = [
    ("asyncssh.sftp", ("SFTPNoSuchFile", "SFTPNoSuchPath"), FileNotFoundError),
    ("asyncssh.sftp", ("SFTPFileAlreadyExists",), FileExistsError),
    ("asyncssh.sftp", ("SFTPNotADirectory",), NotADirectoryError),
    ("asyncssh.sftp", ("SFTPFileIsADirectory",), IsADirectoryError),
    ("webdav4.client", ("ResourceNotFound",), FileNotFoundError),
    ("webdav4.client", ("ResourceAlreadyExists",), FileExistsError),
]


def _types(module: str, names: tuple[str, ...]) -> tuple[type[BaseException], ...]:
    loaded = sys.modules.get(module)
    if loaded is None:
        return ()
    found = (getattr(loaded, name, None) for name in names)
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, BaseException))


def _any_of(table: list[tuple[str, tuple[str, ...]]]) -> tuple[type[BaseException], ...]:
    return tuple(cls for module, names in table for cls in _types(module, names))


def _http_status(error: BaseException) -> int | None:
    """The HTTP status a library's error carries, for the libraries that give one."""
    botocore = _types("botocore.exceptions", ("ClientError",))
    if botocore and isinstance(error, botocore):
        response: Any = getattr(error, "response", {}) or {}
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status else None
    typed = (
        _types("webdav4.client", ("HTTPError",))
        + _types("httpx", ("HTTPStatusError",))
        + _types("aiohttp", ("ClientResponseError",))
        + _types("azure.core.exceptions", ("HttpResponseError",))
        + _types("gcsfs.retry", ("HttpError",))
    )
    if not (typed and isinstance(error, typed)):
        return None
    for attribute in ("status_code", "status", "code"):
        value = getattr(error, attribute, None)
        if value is None:
            response = getattr(error, "response", None)
            value = getattr(response, attribute, None)
        if isinstance(value, int):
            return value
    return None


def _classify(error: BaseException) -> BaseException | None:
    """The contract's exception for ``error`` itself, or None when its type says nothing."""
    if isinstance(error, _CONTRACT):
        return error
    unreachable = (*_any_of(_UNREACHABLE_TYPES), *_BUILT_IN_UNREACHABLE)
    if isinstance(error, unreachable) and not isinstance(error, _any_of(_PERMISSION_TYPES)):
        return StoreUnavailable("The store cannot be reached.")
    if isinstance(error, _any_of(_PERMISSION_TYPES)):
        return PermissionError(errno.EACCES, str(error))
    for module, names, replacement in _SIMPLE_TYPES:
        types = _types(module, names)
        if types and isinstance(error, types):
            return replacement(str(error))
    if isinstance(error, OSError) and error.errno in _UNREACHABLE_ERRNOS:
        return StoreUnavailable("The store cannot be reached.")
    status = _http_status(error)
    if status is None:
        return None
    if status >= 500:
        return StoreUnavailable(f"The store answered with a server error ({status}).")
    if status in (401, 403):
        return PermissionError(errno.EACCES, str(error))
    if status == 404:
        return FileNotFoundError(errno.ENOENT, str(error))
    return None


def translate(error: BaseException) -> BaseException:
    """What ``error`` means for the store contract; itself when nothing more is known.

    A plain ``OSError`` wrapping a library's exception (s3fs turns a ClientError it does
    not know into ``OSError(EIO)``) is judged by its cause.
    """
    seen: BaseException | None = error
    for _depth in range(5):
        if seen is None:
            break
        classified = _classify(seen)
        if classified is not None:
            return classified
        if type(seen) is not OSError:
            break
        seen = seen.__cause__ or seen.__context__
    return error


def raise_translated(error: BaseException, on_unavailable: Callable[[], None] | None) -> NoReturn:
    replacement = translate(error)
    if replacement is error:
        raise error
    if isinstance(replacement, StoreUnavailable):
        log.warning("The store cannot be used: %s: %s", type(error).__name__, error)
        if on_unavailable is not None:
            on_unavailable()
    raise replacement from error


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Decorate a store method: backend exceptions leave it in the contract's terms.

    The method's object (its first argument) is told of an unreachable store through its
    ``lost_connection`` method, if it has one, so that it can reconnect on the next call.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            owner = args[0] if args else None
            raise_translated(error, getattr(owner, "lost_connection", None))

    return wrapper
