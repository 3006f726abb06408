"""One catalogued item, as the rest of docrelay sees it."""

import secrets
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
        return cls(
            pk=row.pk,
            id=row.id,
            parent_pk=row.parent_pk,
            name=decode_name(row.name_raw),
            title=row.title,
            kind=row.kind,
            state=row.state,
            size=row.size,
            mtime_ms=row.mtime_ms,
            etag=row.etag,
            identity=row.identity,
            ancestry=row.ancestry,
            natural=row.natural,
            wf_document_id=row.wf_document_id,
            wf_version_id=row.wf_version_id,
            created_at=row.created_at,
            generation=row.generation,
        )

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
