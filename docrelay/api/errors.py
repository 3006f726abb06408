"""Errors to HTTP, once: the statuses of SPEC.md §5 in each endpoint's shape."""

import errno
import logging

from starlette.responses import JSONResponse

from docrelay.errors import (
    BadRequest,
    Conflict,
    DocrelayError,
    Forbidden,
    InvalidName,
    NotFound,
    RangeNotSatisfiable,
    StoreUnavailable,
)

log = logging.getLogger("docrelay.api")

# Endpoints whose failures Workfront reads in a shape of their own.
_RESULT_FAIL = {"upload"}
_STATUS_FAILURE = {"rename", "delete", "customAction", "customName"}

_UNREACHABLE = {
    errno.EIO,
    errno.ETIMEDOUT,
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTDOWN,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ESTALE,
    errno.ENOTCONN,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
}
_REFUSED_NAME = {errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL}


def body(endpoint: str, message: str) -> dict[str, str]:
    if endpoint in _RESULT_FAIL:
        return {"result": "fail", "error": message}
    if endpoint in _STATUS_FAILURE:
        return {"status": "failure", "error": message}
    return {"status": "error", "error": message}


def from_os_error(error: OSError) -> DocrelayError:
    """The docrelay error an ``OSError`` of a store stands for."""
    if isinstance(error, FileNotFoundError):
        return NotFound("No item has this id.")
    if isinstance(error, FileExistsError):
        return Conflict("The name is taken in this folder.")
    if isinstance(error, (NotADirectoryError, IsADirectoryError)):
        return BadRequest("The item is not of the kind this call needs.")
    if isinstance(error, PermissionError):
        return Forbidden("The store refused docrelay access to this item.")
    if error.errno in _REFUSED_NAME:
        return InvalidName("The store cannot hold this name.")
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreUnavailable("The store has no space left.")
    if error.errno in _UNREACHABLE or isinstance(error, (ConnectionError, TimeoutError)):
        return StoreUnavailable("The store cannot be reached.")
    return DocrelayError("The store failed.")


def error_response(endpoint: str, error: BaseException) -> JSONResponse:
    if isinstance(error, OSError):
        log.warning("Store error on %s: %s", endpoint, error)
        error = from_os_error(error)
    if not isinstance(error, DocrelayError):
        log.exception("docrelay failed on %s", endpoint, exc_info=error)
        error = DocrelayError("docrelay failed; the server log says why.")
    headers = {}
    if isinstance(error, RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{error.size}"
    return JSONResponse(body(endpoint, error.message), status_code=error.status, headers=headers)
