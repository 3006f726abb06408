"""The deployment under check: its addresses, and HTTP calls whose failures read as
reasons (connection refused, DNS, TLS, time-out; an error body's own sentence)."""

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from docrelay.check.runner import StepFailed

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """``public`` is the public URL (scheme, host, port, optional path prefix)."""

    public: str

    @classmethod
    def parse(cls, url: str) -> "Target":
        """The public URL or the Base API URL, with or without ``/api`` and slashes."""
        parts = urlsplit(url.strip())
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL.")
        if parts.query or parts.fragment:
            raise ValueError(f"{url!r} has a query or fragment; give the Base API URL alone.")
        path = parts.path.rstrip("/")
        if path.endswith("/api"):
            path = path[: -len("/api")]
        return cls(f"{parts.scheme}://{parts.netloc}{path}")

    @property
    def api(self) -> str:
        return f"{self.public}/api"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urlsplit(self.public).hostname or ""

    def same_origin(self, url: str) -> bool:
        return origin_key(url) == origin_key(self.public)


def origin_key(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _network_reason(error: BaseException, where: str) -> str | None:
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or str(cause)
            return f"the TLS certificate of {where} is not valid: {why}"
        if isinstance(cause, ssl.SSLError):
            hint = " (does this port speak plain HTTP?)" if "WRONG_VERSION" in str(cause) else ""
            return f"the TLS handshake with {where} failed: {cause.reason or cause}{hint}"
        if isinstance(cause, socket.gaierror):
            return f"the name {urlsplit(where).hostname} does not resolve (DNS): {cause.strerror}"
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {where}: nothing listens there"
    return None


def transport_reason(error: httpx.HTTPError, where: str, timeout: float) -> str:
    """One sentence for a request that got no HTTP answer."""
    if isinstance(error, httpx.ConnectTimeout):
        return f"no connection to {where} within {timeout:g} s (a firewall, or the wrong host?)"
    if isinstance(error, httpx.TimeoutException):
        return f"{where} did not answer within {timeout:g} s"
    found = _network_reason(error, where)
    if found is not None:
        return found
    if isinstance(error, httpx.RemoteProtocolError):
        return f"{where} closed the connection or did not speak HTTP: {error}"
    return f"cannot reach {where}: {type(error).__name__}: {error}"


def error_text(response: httpx.Response) -> str:
    """The error sentence of a docrelay error body, else the start of the body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error_description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    text = " ".join(response.text.split())
    return text[:120] + ("…" if len(text) > 120 else "")


def status_reason(response: httpx.Response, what: str) -> str:
    """Why an answer with an unexpected status fails ``what``."""
    status = response.status_code
    said = error_text(response)
    if status == 503:
        return f"the store behind docrelay is unreachable: {what} answered 503 ({said})"
    if status in (301, 302, 303, 307, 308):
        where = response.headers.get("location", "?")
        return f"{what} answered {status}, a redirect to {where}: give that URL instead"
    if status in (401, 403):
        return f"{what} answered {status}: refused ({said})"
    return f"{what} answered {status}" + (f" ({said})" if said else "")


def json_of(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no Content-Type")
        raise StepFailed(
            f"{what} answered {kind}, not JSON: is {response.url} docrelay's Base API URL?"
        ) from None


class Http:
    """An httpx client on the target; transport failures become ``StepFailed``."""

    def __init__(self, target: Target, timeout: float, **options: Any) -> None:
        self.target = target
        self.timeout = timeout
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, **options)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise StepFailed(transport_reason(error, self.target.origin, self.timeout)) from None

    @contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[httpx.Response]:
        try:
            with self.client.stream(method, url, **kwargs) as response:
                yield response
        except httpx.HTTPError as error:
            raise StepFailed(transport_reason(error, self.target.origin, self.timeout)) from None

    def expect(self, response: httpx.Response, status: int, what: str) -> httpx.Response:
        if response.status_code != status:
            with suppress(httpx.HTTPError):  # a streamed answer: its body gives the reason
                response.read()
            raise StepFailed(status_reason(response, what))
        return response

    def close(self) -> None:
        self.client.close()
