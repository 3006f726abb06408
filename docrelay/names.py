"""Names: the rules of SPEC.md §6, the conflict policy, folding and natural order."""

import re
import unicodedata
from collections.abc import Callable, Iterator

from docrelay.errors import InvalidName

MAX_NAME_BYTES = 255

# Names docrelay keeps for itself inside a store: temporaries of uploads and the trash.
INTERNAL_PREFIX = ".~docrelay"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_RESERVED_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{n}" for n in range(10)] + [f"LPT{n}" for n in range(10)]
)
_WHITE_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def check_name(raw: str, refused_chars: str = "") -> str:
    """The NFC form of ``raw`` if it is an allowed name, else ``InvalidName`` with the reason."""
    name = nfc(raw)
    if name in ("", ".", ".."):
        raise InvalidName("The name must not be empty, '.' or '..'.")
    if "/" in name or "\\" in name:
        raise InvalidName("The name must not contain '/' or '\\'.")
    if _CONTROL.search(name):
        raise InvalidName("The name must not contain control characters.")
    if _BIDI.search(name):
        raise InvalidName("The name must not contain bidirectional override characters.")
    if name.endswith((".", " ")):
        raise InvalidName("The name must not end in a dot or a space.")
    if name.split(".", 1)[0].upper() in _RESERVED_DEVICES:
        raise InvalidName("The name is a reserved device name (CON, PRN, AUX, NUL, COMn, LPTn).")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidName(f"The name is longer than {MAX_NAME_BYTES} bytes.")
    if name.startswith(INTERNAL_PREFIX):
        raise InvalidName(f"Names starting with {INTERNAL_PREFIX!r} are reserved for docrelay.")
    refused = sorted({char for char in name if char in refused_chars})
    if refused:
        listed = " ".join(refused)
        raise InvalidName(f"The store cannot hold these characters in a name: {listed}")
    return name


def name_key(name: str) -> str:
    """The form under which two names are the same name for conflicts (NFC, case folded)."""
    return nfc(nfc(name).casefold())


def folded(name: str) -> str:
    """The form search compares: NFC, case folded, runs of white space as one space."""
    return _WHITE_SPACE.sub(" ", name_key(name)).strip()


def split_extension(name: str, is_folder: bool) -> tuple[str, str]:
    """(stem, ext) where ext starts at the last dot; none for folders or a leading-only dot."""
    if is_folder:
        return name, ""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode()[:max_bytes]
    return encoded.decode(errors="ignore")


def numbered_names(name: str, is_folder: bool) -> Iterator[str]:
    """``name`` itself, then ``stem (1)ext``, ``stem (2)ext``, … each within 255 bytes."""
    yield name
    stem, ext = split_extension(name, is_folder)
    number = 1
    while True:
        suffix = f" ({number}){ext}"
        room = MAX_NAME_BYTES - len(suffix.encode())
        kept = _truncate_utf8(stem, room).rstrip(" ")
        yield f"{kept}{suffix}"
        number += 1


def first_free_name(name: str, is_folder: bool, taken: Callable[[str], bool]) -> str:
    """The first of ``numbered_names`` for which ``taken`` is false."""
    for candidate in numbered_names(name, is_folder):
        if not taken(candidate):
            return candidate
    raise AssertionError("numbered_names is endless")


def _digits_key(match: re.Match[str]) -> str:
    digits = match.group().lstrip("0") or "0"
    width = min(len(digits), 99)
    return f"{width:02d}{digits}"


def natural_key(name: str) -> str:
    """A string whose code-point order is SPEC's natural name order (case folded,
    runs of digits by value); callers break ties by the name itself."""
    return _DIGITS.sub(_digits_key, name_key(name))
