"""Whole numbers read from request text (parameters and headers).

``int()`` refuses strings of more than 4 300 digits and accepts digits of any script; a
request's number is ASCII digits, and one too long to matter is just "too large".
"""


def decimal(text: str, ceiling: int) -> int | None:
    """The value of ``text`` if it is ASCII digits only (leading zeros allowed), or
    ``ceiling + 1`` for any larger value; None if it is not such a number."""
    if not text or not text.isascii() or not text.isdecimal():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(ceiling)):
        return ceiling + 1
    return min(int(digits), ceiling + 1)
