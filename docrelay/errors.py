"""docrelay's own errors: a small tree, each with the HTTP status it stands for.

Low layers raise these (or the built-in ``OSError`` types, which the API layer maps
once, in ``docrelay.api.errors``); nothing parses an exception's message.
"""


class DocrelayError(Exception):
    """Base of docrelay's errors; ``status`` is the HTTP status of SPEC.md §5."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(DocrelayError):
    status = 400


class Forbidden(DocrelayError):
    status = 403


class NotFound(DocrelayError):
    status = 404


class MethodNotAllowed(DocrelayError):
    status = 405


class Conflict(DocrelayError):
    status = 409


class TooLarge(DocrelayError):
    status = 413


class RangeNotSatisfiable(DocrelayError):
    status = 416

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class StoreUnavailable(DocrelayError):
    status = 503


class InvalidName(BadRequest):
    """A name that SPEC.md §6 or the store refuses."""


class CutShort(Exception):
    """A download's file ended before the length its headers promised (it shrank while it
    was sent): the connection is closed, which tells the client. Logged as a warning, not
    as uvicorn's "Exception in ASGI application" (docrelay.logs)."""
