"""One catalogued item, as the rest of docrelay sees it."""

import dataclasses
import functools
import operator
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from docrelay.names import folded, name_key, natural_key, nfc, split_extension
from docrelay.store.base import Entry, Kind

ROOT_ID = "/"
ROOT_PK = 1

PRESENT = "present"
PENDING = "pending"  # reserved by uploadInit, no bytes yet
GONE = "gone"  # left the store behind docrelay's back; kept to recognise it if it returns
TRASHED = "trashed"


def new_id() -> str:
    return secrets.token_urlsafe(16)


def encode_name(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def decode_name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def title_of(name: str) -> str:
    """The name as shown: NFC, with bytes that are not UTF-8 shown as U+FFFD."""
    return nfc(encode_name(name).decode("utf-8", "replace"))


def name_columns(name: str, kind: str) -> dict[str, Any]:
    title = title_of(name)
    stem, _ext = split_extension(title, kind == "folder")
    return {
        "name_raw": encode_name(name),
        "title": title,
        "name_key": name_key(title),
        "natural": natural_key(title),
        "folded": folded(title),
        "stem_folded": folded(stem),
    }


def entry_columns(entry: Entry) -> dict[str, Any]:
    return {
        "size": entry.size,
        "mtime_ms": entry.mtime_ns // 1_000_000,
        "etag": entry.etag,
        "identity": entry.identity,
    }


@dataclass(frozen=True)
class Item:
    pk: int
    id: str
    parent_pk: int | None
    name: str  # as in the store
    title: str
    kind: Kind
    state: str
    size: int
    mtime_ms: int
    etag: str | None
    identity: str | None
    ancestry: str
    natural: str
    wf_document_id: str | None
    wf_version_id: str | None
    created_at: float
    generation: int

    @classmethod
    def from_row(cls, row: Any) -> "Item":
        """The item of a row of ``select(items)``."""
        return cls.from_rows([row])[0]

    @classmethod
    def from_rows(cls, rows: Sequence[Any]) -> list["Item"]:
        """The items of rows of one ``select(items)`` (its columns in any order)."""
        if not rows:
            return []
        pick = _picker(tuple(rows[0]._fields))
        made = []
        for row in rows:
            pk, id_, parent_pk, name_raw, *rest = pick(row)
            made.append(cls(pk, id_, parent_pk, decode_name(name_raw), *rest))
        return made

    @property
    def is_root(self) -> bool:
        return self.id == ROOT_ID

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"

    @property
    def child_ancestry(self) -> str:
        """The ancestry its children carry."""
        return f"{self.ancestry}{self.pk}/"

    def sort_key(self) -> tuple[int, str, str]:
        """Folders first, then files, each in natural order, ties by code point."""
        return (0 if self.is_folder else 1, self.natural, self.title)


#: the columns that make an Item, in the order of its fields (``name`` is stored as bytes)
_COLUMNS = tuple(
    "name_raw" if field.name == "name" else field.name for field in dataclasses.fields(Item)
)


@functools.cache
def _picker(row_fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """Takes an Item's columns out of a row by position (by name is slow for many rows)."""
    return operator.itemgetter(*(row_fields.index(column) for column in _COLUMNS))
