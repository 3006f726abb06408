"""Keeping a folder's catalogued children in step with what the store lists.

A child is matched by its exact name in the store. An entry the catalog has not seen
is first compared, by the store's identity (device and inode), with items that left
their place: a file renamed or moved behind docrelay's back keeps its id.
"""

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Text, func, insert, literal, select, update

from docrelay.catalog.items import (
    GONE,
    PRESENT,
    Item,
    encode_name,
    entry_columns,
    name_columns,
    new_id,
)
from docrelay.catalog.schema import items
from docrelay.errors import NotFound
from docrelay.store.base import Entry, Path, Store

log = logging.getLogger("docrelay.catalog")

_TRACKED = (PRESENT, GONE)


def child_rows(connection: Connection, folder_pk: int) -> list[Item]:
    rows = connection.execute(
        select(items).where(items.c.parent_pk == folder_pk, items.c.state.in_(_TRACKED))
    ).all()
    return Item.from_rows(rows)


def _same(item: Item, entry: Entry) -> bool:
    columns = entry_columns(entry)
    return item.kind == entry.kind and all(
        getattr(item, key) == value for key, value in columns.items()
    )


def differs(rows: Sequence[Item], entries: Sequence[Entry]) -> bool:
    """Whether the store's entries differ from the catalogued present children."""
    present = {encode_name(row.name): row for row in rows if row.state == PRESENT}
    if len(present) != len(entries):
        return True
    for entry in entries:
        row = present.get(encode_name(entry.name))
        if row is None or not _same(row, entry):
            return True
    return False


def generation(connection: Connection, folder_pk: int) -> int:
    value = connection.execute(
        select(items.c.generation).where(items.c.pk == folder_pk)
    ).scalar_one_or_none()
    return int(value or 0)


def touch(connection: Connection, *folder_pks: int | None) -> None:
    """Record a change made through docrelay in these folders (see ``generation``)."""
    pks = [pk for pk in folder_pks if pk is not None]
    connection.execute(
        update(items).where(items.c.pk.in_(pks)).values(generation=items.c.generation + 1)
    )


def apply(
    connection: Connection, store: Store, folder: Item, entries: Sequence[Entry]
) -> list[Item]:
    """Write the differences; the folder's present children afterwards."""
    now = time.time()
    rows = child_rows(connection, folder.pk)
    by_name: dict[bytes, Item] = {}
    for row in sorted(rows, key=lambda row: row.state != PRESENT):  # present rows win
        by_name.setdefault(encode_name(row.name), row)
    seen: set[int] = set()
    for entry in entries:
        known = by_name.get(encode_name(entry.name))
        if known is not None and known.kind == entry.kind:
            if known.state != PRESENT or not _same(known, entry):
                _update(connection, known, entry, now)
            seen.add(known.pk)
            continue
        moved = _moved_here(connection, store, folder, entry)
        if moved is not None:
            relocate(connection, moved, folder)
            _update(connection, moved, entry, now, rename=True)
            seen.add(moved.pk)
            log.debug("%s moved behind docrelay's back to %r", moved.id, entry.name)
            continue
        _insert(connection, folder, entry, now)
    left = [row for row in rows if row.state == PRESENT and row.pk not in seen]
    mark_gone(connection, left, now)
    return [row for row in child_rows(connection, folder.pk) if row.state == PRESENT]


def _update(
    connection: Connection, row: Item, entry: Entry, now: float, rename: bool = False
) -> None:
    values: dict[str, Any] = {**entry_columns(entry), "state": PRESENT}
    if row.state != PRESENT:
        values["changed_at"] = now
    if rename:
        values.update(name_columns(entry.name, entry.kind))
    connection.execute(update(items).where(items.c.pk == row.pk).values(**values))


def _insert(connection: Connection, folder: Item, entry: Entry, now: float) -> None:
    connection.execute(
        insert(items).values(
            id=new_id(),
            parent_pk=folder.pk,
            kind=entry.kind,
            state=PRESENT,
            ancestry=folder.child_ancestry,
            created_at=now,
            changed_at=now,
            **entry_columns(entry),
            **name_columns(entry.name, entry.kind),
        )
    )


def _moved_here(connection: Connection, store: Store, folder: Item, entry: Entry) -> Item | None:
    """The catalogued item that ``entry`` is, moved from elsewhere, if any."""
    if entry.identity is None:
        return None
    candidates = connection.execute(
        select(items).where(
            items.c.identity == entry.identity,
            items.c.kind == entry.kind,
            items.c.state.in_(_TRACKED),
        )
    ).all()
    for row in candidates:
        item = Item.from_row(row)
        if entry.kind == "file" and (item.size, item.mtime_ms) != (
            entry.size,
            entry.mtime_ns // 1_000_000,
        ):
            continue  # an inode reused by another file
        if item.pk == folder.pk or folder.ancestry.startswith(item.child_ancestry):
            continue
        if item.state == PRESENT and _still_there(connection, store, item):
            continue  # a hard link: the same file in two places
        return item
    return None


def _still_there(connection: Connection, store: Store, item: Item) -> bool:
    try:
        path = path_of(connection, item)
        return store.stat(path).identity == item.identity
    except (OSError, NotFound):
        return False


def path_of(connection: Connection, item: Item) -> Path:
    """The item's path in the store: its ancestors' names below the root, then its own;
    ``NotFound`` when an ancestor is no longer present."""
    if item.is_root:
        return ()
    pks = [int(pk) for pk in item.ancestry.strip("/").split("/") if pk][1:]
    rows = {
        row.pk: row
        for row in connection.execute(
            select(items.c.pk, items.c.name_raw, items.c.state).where(items.c.pk.in_(pks))
        )
    }
    names = []
    for pk in pks:
        row = rows.get(pk)
        if row is None or row.state != PRESENT:
            raise NotFound("No item has this id.")
        names.append(row.name_raw.decode("utf-8", "surrogateescape"))
    return (*names, item.name)


def subtree_pks(connection: Connection, item: Item) -> list[int]:
    """The item and everything under it."""
    prefix = item.child_ancestry
    rows = connection.execute(
        select(items.c.pk).where(func.substr(items.c.ancestry, 1, len(prefix)) == prefix)
    ).all()
    return [item.pk, *(row.pk for row in rows)]


def mark_gone(connection: Connection, gone: Sequence[Item], now: float) -> None:
    """Items (and what is under them) that left the store."""
    for item in gone:
        pks = subtree_pks(connection, item) if item.is_folder else [item.pk]
        for start in range(0, len(pks), 500):
            connection.execute(
                update(items)
                .where(items.c.pk.in_(pks[start : start + 500]), items.c.state == PRESENT)
                .values(state=GONE, changed_at=now)
            )


def relocate(connection: Connection, item: Item, folder: Item) -> None:
    """Give ``item`` a new parent; its descendants' ancestry follows."""
    old_prefix, new_ancestry = item.child_ancestry, folder.child_ancestry
    new_prefix = f"{new_ancestry}{item.pk}/"
    connection.execute(
        update(items)
        .where(items.c.pk == item.pk)
        .values(parent_pk=folder.pk, ancestry=new_ancestry)
    )
    if item.is_folder and old_prefix != new_prefix:
        connection.execute(
            update(items)
            .where(func.substr(items.c.ancestry, 1, len(old_prefix)) == old_prefix)
            .values(
                ancestry=literal(new_prefix, Text)
                + func.substr(items.c.ancestry, len(old_prefix) + 1, type_=Text)
            )
        )
