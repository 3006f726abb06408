"""The trash: deleted items, recoverable until the retention passes."""

import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from docrelay.catalog import reconcile
from docrelay.catalog.catalog import Catalog
from docrelay.catalog.items import PRESENT, TRASHED, Item, entry_columns, name_columns
from docrelay.catalog.schema import items, trash
from docrelay.errors import NotFound
from docrelay.names import name_key, numbered_names


@dataclass(frozen=True)
class TrashEntry:
    id: str
    item_id: str
    title: str
    kind: str
    deleted_at: float
    deleted_by: str


class Trash:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.db = catalog.db

    def entries(self) -> list[TrashEntry]:
        with self.db.read() as connection:
            rows = connection.execute(
                select(trash, items.c.id.label("item_id"))
                .join(items, items.c.pk == trash.c.item_pk)
                .order_by(trash.c.deleted_at)
            ).all()
        return [
            TrashEntry(row.id, row.item_id, row.title, row.kind, row.deleted_at, row.deleted_by)
            for row in rows
        ]

    def restore(self, trash_id: str) -> Item:
        """Put a deleted item back, under its old folder if that is still there (else the
        root), with the next free name; it keeps its id and so do its children."""
        with self.db.read() as connection:
            row = connection.execute(select(trash).where(trash.c.id == trash_id)).first()
            if row is None:
                raise NotFound(f"Nothing in the trash has the id {trash_id!r}.")
            parent = self.catalog._row(connection, pk=row.parent_pk)
        if parent is None or parent.state != PRESENT:
            parent = self.catalog.item("/")
        try:
            parent, parent_path = self.catalog.fresh(parent.id)
        except NotFound:
            parent, parent_path = self.catalog.fresh("/")
        self.catalog.reconcile(parent, parent_path)
        with self.db.write() as connection:
            self.db.lock_folder(connection, parent.pk)
            item = self.catalog._row(connection, pk=row.item_pk)
            assert item is not None
            taken = self.catalog._taken(connection, parent)
            for candidate in numbered_names(item.name, item.is_folder):
                if name_key(candidate) in taken:
                    continue
                try:
                    entry = self.catalog.store.restore(trash_id, parent_path, candidate)
                    break
                except FileExistsError:
                    taken.add(name_key(candidate))
            reconcile.relocate(connection, item, parent)
            now = time.time()
            connection.execute(
                update(items)
                .where(items.c.trash_id == trash_id, items.c.state == TRASHED)
                .values(state=PRESENT, trash_id=None, changed_at=now)
            )
            connection.execute(
                update(items)
                .where(items.c.pk == item.pk)
                .values(**entry_columns(entry), **name_columns(entry.name, item.kind))
            )
            connection.execute(delete(trash).where(trash.c.id == trash_id))
            reconcile.touch(connection, parent.pk)
            restored = self.catalog._row(connection, pk=item.pk)
        assert restored is not None
        return restored

    def purge(self, older_than: float | None = None) -> int:
        """Remove for good what was deleted before ``older_than`` (everything if None)."""
        with self.db.read() as connection:
            query = select(trash.c.id)
            if older_than is not None:
                query = query.where(trash.c.deleted_at < older_than)
            tokens = [row.id for row in connection.execute(query)]
        for token in tokens:
            self.catalog.store.purge(token)
            with self.db.write() as connection:
                connection.execute(delete(trash).where(trash.c.id == token))
                connection.execute(delete(items).where(items.c.trash_id == token))
        return len(tokens)
