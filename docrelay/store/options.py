"""Store options (endpoint, region, credentials) that never print their secrets."""

from typing import Any

# A key naming any of these holds a secret, or something as good as one.
_SECRET_WORDS = ("secret", "password", "passphrase", "token", "key", "credential", "sas", "auth")


def looks_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redacted(value: Any) -> Any:
    """``value`` with every secret-looking entry, at any depth, shown as ``'***'``."""
    if isinstance(value, dict):
        return {
            key: "***" if looks_secret(str(key)) else redacted(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value


class StoreOptions(dict[str, Any]):
    """A dict of store options whose ``repr`` and ``str`` hide secret-looking values,
    so that logging the settings never writes a key, password or token."""

    def __repr__(self) -> str:
        return repr(redacted(dict(self)))

    __str__ = __repr__
