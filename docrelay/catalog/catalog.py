"""The catalog: ids ↔ store paths, kept in step with the store.

Every id docrelay issues is a row here. Reads check the store (a file gone from the
store is 404 at once); listings reconcile the folder with the store.
"""

import logging
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from docrelay.catalog import reconcile
from docrelay.catalog.db import SERVER_VALUES_LOCK, Database
from docrelay.catalog.items import (
    GONE,
    PENDING,
    PRESENT,
    ROOT_ID,
    ROOT_PK,
    TRASHED,
    Item,
    encode_name,
    entry_columns,
    name_columns,
    new_id,
)
from docrelay.catalog.listings import Listing, Listings, shape_of
from docrelay.catalog.schema import items, server_values, temporaries, trash
from docrelay.errors import BadRequest, Conflict, NotFound, StoreUnavailable
from docrelay.names import check_name, first_free_name, name_key, numbered_names
from docrelay.store.base import Entry, Path, Store, Writer
from docrelay.store.roots import RootsStore

log = logging.getLogger("docrelay.catalog")

RESERVATION_SECONDS = 24 * 3600


def ensure_root(connection: Connection) -> None:
    """Insert the root item (pk 1, id "/") unless the catalog has it."""
    if connection.execute(select(items.c.pk).where(items.c.pk == ROOT_PK)).first():
        return
    now = time.time()
    connection.execute(
        insert(items).values(
            pk=ROOT_PK,
            id=ROOT_ID,
            parent_pk=None,
            kind="folder",
            state=PRESENT,
            size=0,
            mtime_ms=0,
            ancestry="",
            created_at=now,
            changed_at=now,
            **name_columns("", "folder"),
        )
    )


class StalePath(NotFound):
    """A folder was listed at a path it left (renamed or moved through docrelay)."""


TEMPORARY_SECONDS = 24 * 3600
THIS_PROCESS = f"{socket.gethostname()} {os.getpid()}"


def _abandoned(holder: str | None, created_at: float) -> bool:
    """Whether no running upload can own a temporary recorded by ``holder``."""
    if created_at < time.time() - TEMPORARY_SECONDS:
        return True
    host, _space, pid = (holder or "").partition(" ")
    if host != socket.gethostname() or not pid.isdecimal():
        return holder is None  # recorded before holders were: only the one process wrote
    if holder == THIS_PROCESS:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


class Catalog:
    def __init__(self, database: Database, store: Store, listing_budget: int = 0) -> None:
        self.db = database
        self.store = store
        self.listings = Listings(listing_budget)  # see docrelay/catalog/listings.py
        # several roots: the top is virtual and its children are the roots' folders
        self.several_roots = isinstance(store, RootsStore)
        self._root_names: dict[int, str] = {}

    # -- roots -------------------------------------------------------------------------

    def is_virtual_top(self, item: Item) -> bool:
        return self.several_roots and item.is_root

    def root_of(self, item: Item) -> str | None:
        """The name of the configured root the item is in; None with a single root."""
        if not self.several_roots or item.is_root:
            return None
        ancestors = [int(pk) for pk in item.ancestry.strip("/").split("/") if pk]
        top_pk = ancestors[1] if len(ancestors) > 1 else item.pk
        if top_pk not in self._root_names:
            with self.db.read() as connection:
                top = self._row(connection, pk=top_pk)
            if top is None:
                return None
            self._root_names[top_pk] = top.name
        return self._root_names[top_pk]

    def top_folder(self, item: Item) -> Item:
        """The folder at the top of the item's root: the root itself, or with several
        roots the configured root's folder."""
        if not self.several_roots:
            return self.item(ROOT_ID)
        ancestors = [int(pk) for pk in item.ancestry.strip("/").split("/") if pk]
        if len(ancestors) < 2:
            return item
        with self.db.read() as connection:
            top = self._row(connection, pk=ancestors[1])
        if top is None:
            raise NotFound("The item's root folder is gone.")
        return top

    def root_names(self) -> list[str]:
        if not isinstance(self.store, RootsStore):
            return []
        return list(self.store.stores)

    def root_prefixes(self, names: Iterable[str]) -> list[tuple[int, str]]:
        """(pk, child ancestry) of the named roots' folders, for filtering searches."""
        wanted = [encode_name(name) for name in names]
        if not wanted:
            return []
        with self.db.read() as connection:
            rows = connection.execute(
                select(items).where(items.c.parent_pk == ROOT_PK, items.c.name_raw.in_(wanted))
            ).all()
        tops = Item.from_rows(rows)
        return [(top.pk, top.child_ancestry) for top in tops]

    # -- set-up ------------------------------------------------------------------------

    def open(self) -> None:
        """Migrate, make sure the root exists, and sweep what a crash left behind."""
        self.db.migrate()
        with self.db.write() as connection:
            self.db.lock_folder(connection, ROOT_PK)
            ensure_root(connection)
        self.sweep_temporaries()

    def server_value(self, key: str) -> str | None:
        with self.db.read() as connection:
            row = connection.execute(
                select(server_values.c.value).where(server_values.c.key == key)
            ).first()
        return None if row is None else str(row.value)

    def set_server_value(self, key: str, value: str, *, keep_existing: bool = False) -> str:
        """Store ``value`` under ``key``; with ``keep_existing`` an earlier value wins."""
        with self.db.write() as connection:
            self.db.lock(connection, SERVER_VALUES_LOCK)
            row = connection.execute(
                select(server_values.c.value).where(server_values.c.key == key)
            ).first()
            if row is not None and keep_existing:
                return str(row.value)
            if row is None:
                connection.execute(insert(server_values).values(key=key, value=value))
            else:
                connection.execute(
                    update(server_values).where(server_values.c.key == key).values(value=value)
                )
        return value

    # -- lookups -----------------------------------------------------------------------

    def _row(self, connection: Connection, **where: Any) -> Item | None:
        clauses = [getattr(items.c, column) == value for column, value in where.items()]
        row = connection.execute(select(items).where(and_(*clauses))).first()
        return None if row is None else Item.from_row(row)

    def item(self, item_id: str) -> Item:
        """The present or reserved item ``item_id`` as catalogued (no store check)."""
        with self.db.read() as connection:
            found = self._row(connection, id=item_id)
            if found is None or found.state not in (PRESENT, PENDING) or self._expired(found):
                raise NotFound("No item has this id.")
            self._path(connection, found)  # every ancestor still there
        return found

    def _expired(self, item: Item) -> bool:
        return item.state == PENDING and item.created_at < time.time() - RESERVATION_SECONDS

    def path(self, item: Item) -> Path:
        with self.db.read() as connection:
            return self._path(connection, item)

    def _path(self, connection: Connection, item: Item) -> Path:
        return reconcile.path_of(connection, item)

    def fresh(self, item_id: str) -> tuple[Item, Path]:
        """The item and its path, checked against the store now; 404 if it left the store."""
        for _attempt in range(3):
            item = self.item(item_id)
            path = self.path(item)
            if item.state == PENDING:
                return item, path
            try:
                entry = self.store.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                entry = None
            if entry is not None and entry.kind == item.kind:
                return self._refresh(item, entry), path
            if self._mark_gone(item, path):
                raise NotFound("The item is no longer in the store.")
            # renamed or moved through docrelay meanwhile: look again
        raise NotFound("The item is no longer in the store.")

    def _refresh(self, item: Item, entry: Entry) -> Item:
        columns = entry_columns(entry)
        if all(getattr(item, key) == value for key, value in columns.items()):
            return item
        with self.db.write() as connection:
            connection.execute(update(items).where(items.c.pk == item.pk).values(**columns))
            reconcile.touch(connection, item.parent_pk)  # a kept listing of it is stale
            refreshed = self._row(connection, pk=item.pk)
        assert refreshed is not None
        return refreshed

    def _mark_gone(self, item: Item, path: Path) -> bool:
        """Mark the item gone unless it (or a folder above it) changed since it was read
        at ``path``, e.g. renamed through docrelay meanwhile; whether it was."""
        with self.db.write() as connection:
            self.db.lock_folder(connection, item.parent_pk or ROOT_PK)
            current = self._row(connection, pk=item.pk)
            if current is None or (current.name, current.parent_pk, current.state) != (
                item.name,
                item.parent_pk,
                item.state,
            ):
                return False
            try:
                if reconcile.path_of(connection, current) != path:
                    return False
            except NotFound:
                return False  # an ancestor is gone: marking it covered this item
            reconcile.mark_gone(connection, [item], time.time())
            reconcile.touch(connection, item.parent_pk)  # a kept listing of it is stale
        return True

    def by_workfront_document(self, document_id: str) -> Item:
        with self.db.read() as connection:
            row = connection.execute(
                select(items)
                .where(items.c.wf_document_id == document_id, items.c.state == PRESENT)
                .order_by(items.c.created_at.desc())
            ).first()
        if row is None:
            raise NotFound("No document has this Workfront document id.")
        return Item.from_row(row)

    def children(self, folder_id: str) -> list[Item]:
        """The present children of a folder, reconciled with the store, in listing order."""
        return list(self.listing(folder_id).items)

    def listing(self, folder_id: str) -> Listing:
        """The folder's listing (its present children, in listing order), reconciled with
        the store now."""
        for _attempt in range(3):
            folder, path = self.fresh(folder_id)
            if not folder.is_folder:
                raise BadRequest("The id is a file, not a folder.")
            try:
                return self._listing(folder, path)
            except StalePath:
                continue  # renamed or moved through docrelay meanwhile: look again
        raise NotFound("The folder is no longer in the store.")

    def reconcile(self, folder: Item, path: Path) -> list[Item]:
        """Bring the folder's catalogued children in step with the store; the present ones,
        in listing order."""
        return list(self._listing(folder, path).items)

    def _listing(self, folder: Item, path: Path) -> Listing:
        """A listing taken while a change was made through docrelay is stale (the change
        bumped the folder's generation) and is taken again rather than applied."""
        for _attempt in range(5):
            kept = self.listings.get(folder.pk)
            stamp = self.store.listing_stamp(path) if self.listings.enabled else None
            with self.db.read() as connection:
                generation = reconcile.generation(connection, folder.pk)
            if kept is not None and kept.vouched(generation, stamp):
                return kept
            try:
                entries = self.store.list_folder(path)
            except (FileNotFoundError, NotADirectoryError):
                self.listings.drop(folder.pk)
                if not self._mark_gone(folder, path):
                    raise StalePath("The folder moved while it was listed.") from None
                raise NotFound("The folder is no longer in the store.") from None
            shape = shape_of(entries)
            if kept is not None and kept.generation == generation and kept.shape == shape:
                listing = kept.renewed(stamp)
                self.listings.put(listing)
                return listing
            with self.db.read() as connection:
                rows = reconcile.child_rows(connection, folder.pk)
            if reconcile.differs(rows, entries):
                with self.db.write() as connection:
                    self.db.lock_folder(connection, folder.pk)
                    if reconcile.generation(connection, folder.pk) != generation:
                        continue
                    present = reconcile.apply(connection, self.store, folder, entries)
            else:
                present = [row for row in rows if row.state == PRESENT]
            listing = Listing(
                folder_pk=folder.pk,
                generation=generation,
                stamp=stamp,
                shape=shape,
                items=tuple(sorted(present, key=Item.sort_key)),
            )
            self.listings.put(listing)
            return listing
        raise StoreUnavailable("The folder changes too fast to be listed; try again.")

    def subtree_count(self) -> int:
        with self.db.read() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(items).where(items.c.state == PRESENT)
                ).scalar_one()
            )

    # -- names -------------------------------------------------------------------------

    def _taken(
        self, connection: Connection, folder: Item, exclude_pk: int | None = None
    ) -> set[str]:
        rows = connection.execute(
            select(items.c.pk, items.c.name_key).where(
                items.c.parent_pk == folder.pk, items.c.state.in_((PRESENT, PENDING))
            )
        ).all()
        return {row.name_key for row in rows if row.pk != exclude_pk}

    def _choose_name(
        self, connection: Connection, folder: Item, name: str, is_folder: bool, policy: str
    ) -> str:
        taken = self._taken(connection, folder)
        if name_key(name) in taken and policy == "fail":
            raise Conflict(f"The name {name!r} is taken in this folder.")
        return first_free_name(name, is_folder, lambda candidate: name_key(candidate) in taken)

    def _writable_folder(self, folder_id: str) -> tuple[Item, Path]:
        folder, path = self.fresh(folder_id)
        if not folder.is_folder or folder.state != PRESENT:
            raise BadRequest("The parent id is a file, not a folder.")
        self.reconcile(folder, path)  # names taken behind docrelay's back count too
        return folder, path

    def check_name(self, name: str) -> str:
        return check_name(name, self.store.refused_chars)

    # -- writes ------------------------------------------------------------------------

    def reserve(
        self,
        folder_id: str,
        filename: str,
        policy: str,
        wf_document_id: str | None = None,
        wf_version_id: str | None = None,
    ) -> Item:
        """uploadInit: a pending file holding its name until its first upload."""
        name = self.check_name(filename)
        folder, _path = self._writable_folder(folder_id)
        now = time.time()
        with self.db.write() as connection:
            self.db.lock_folder(connection, folder.pk)
            chosen = self._choose_name(connection, folder, name, False, policy)
            connection.execute(
                insert(items).values(
                    id=new_id(),
                    parent_pk=folder.pk,
                    kind="file",
                    state=PENDING,
                    size=0,
                    mtime_ms=int(now * 1000),
                    ancestry=folder.child_ancestry,
                    wf_document_id=wf_document_id or None,
                    wf_version_id=wf_version_id or None,
                    created_at=now,
                    changed_at=now,
                    **name_columns(chosen, "file"),
                )
            )
            created = self._row(
                connection, parent_pk=folder.pk, name_raw=encode_name(chosen), state=PENDING
            )
        assert created is not None
        return created

    def begin_upload(self, item_id: str) -> tuple[Item, Writer, int]:
        """Start writing the bytes of a file: its writer, recorded for crash recovery."""
        item = self.item(item_id)
        if item.is_folder:
            raise BadRequest("The id is a folder; only files take uploads.")
        if item.state == PRESENT:
            item, _path = self.fresh(item_id)
        with self.db.read() as connection:
            folder = self._row(connection, pk=item.parent_pk)
            assert folder is not None
            folder_path = self._path(connection, folder)
        writer = self.store.begin_write(folder_path)
        with self.db.write() as connection:
            result = connection.execute(
                insert(temporaries).values(
                    folder_pk=folder.pk,
                    name=writer.temporary,
                    created_at=time.time(),
                    holder=THIS_PROCESS,
                )
            )
        temporary_pk = result.inserted_primary_key
        assert temporary_pk is not None
        return item, writer, int(temporary_pk[0])

    def finish_upload(self, item: Item, writer: Writer, temporary_pk: int, policy: str) -> Item:
        """Make the written bytes the item's content, atomically."""
        try:
            with self.db.write() as connection:
                self.db.lock_folder(connection, item.parent_pk or ROOT_PK)
                current = self._row(connection, pk=item.pk)
                if current is None or current.state not in (PRESENT, PENDING):
                    raise NotFound("The item was deleted during the upload.")
                folder = self._row(connection, pk=current.parent_pk)
                assert folder is not None
                self.db.lock_folder(connection, folder.pk)
                entry = self._commit(connection, current, folder, writer)
                connection.execute(
                    update(items)
                    .where(items.c.pk == current.pk)
                    .values(
                        state=PRESENT,
                        changed_at=time.time(),
                        **entry_columns(entry),
                        **name_columns(entry.name, "file"),
                    )
                )
                connection.execute(delete(temporaries).where(temporaries.c.pk == temporary_pk))
                reconcile.touch(connection, folder.pk)
                done = self._row(connection, pk=current.pk)
        except BaseException:
            writer.abort()
            self.forget_temporary(temporary_pk)
            raise
        assert done is not None
        return done

    def _commit(self, connection: Connection, item: Item, folder: Item, writer: Writer) -> Entry:
        if item.state == PRESENT:
            return writer.commit(item.name, replace=True)
        taken = self._taken(connection, folder, exclude_pk=item.pk)
        for candidate in _numbered(item.name, taken):
            try:
                return writer.commit(candidate, replace=False)
            except FileExistsError:
                taken.add(name_key(candidate))  # the store gained this name meanwhile
        raise AssertionError("unreachable")

    def abort_upload(self, writer: Writer, temporary_pk: int) -> None:
        writer.abort()
        self.forget_temporary(temporary_pk)

    def forget_temporary(self, temporary_pk: int) -> None:
        with self.db.write() as connection:
            connection.execute(delete(temporaries).where(temporaries.c.pk == temporary_pk))

    def sweep_temporaries(self) -> int:
        """Remove the upload temporaries that no running upload owns: those of a process of
        this host that is gone (a crash, a kill), and any older than a day (their writer,
        on whatever host, has surely stopped)."""
        with self.db.read() as connection:
            rows = connection.execute(select(temporaries)).all()
        abandoned = [row for row in rows if _abandoned(row.holder, row.created_at)]
        swept = 0
        for row in abandoned:
            with self.db.read() as connection:
                folder = self._row(connection, pk=row.folder_pk)
                try:
                    folder_path = None if folder is None else self._path(connection, folder)
                except NotFound:
                    folder_path = None
            if folder_path is not None:
                self.store.discard_temporary(folder_path, row.name)
                swept += 1
            self.forget_temporary(row.pk)
        if swept:
            log.info("Swept %d upload temporaries left by an earlier stop", swept)
        return swept

    def create_folder(self, parent_id: str, raw_name: str, policy: str) -> Item:
        name = self.check_name(raw_name)
        folder, path = self._writable_folder(parent_id)
        now = time.time()
        with self.db.write() as connection:
            self.db.lock_folder(connection, folder.pk)
            taken = self._taken(connection, folder)
            if name_key(name) in taken and policy == "fail":
                raise Conflict(f"The name {name!r} is taken in this folder.")
            for candidate in _numbered(name, taken, is_folder=True):
                try:
                    entry = self.store.make_folder(path, candidate)
                    break
                except FileExistsError:
                    if policy == "fail":
                        raise Conflict(f"The name {name!r} is taken in this folder.") from None
                    taken.add(name_key(candidate))
            connection.execute(
                insert(items).values(
                    id=new_id(),
                    parent_pk=folder.pk,
                    kind="folder",
                    state=PRESENT,
                    ancestry=folder.child_ancestry,
                    created_at=now,
                    changed_at=now,
                    **entry_columns(entry),
                    **name_columns(entry.name, "folder"),
                )
            )
            reconcile.touch(connection, folder.pk)
            created = self._row(
                connection, parent_pk=folder.pk, name_raw=encode_name(entry.name), state=PRESENT
            )
        assert created is not None
        return created

    def rename(self, item_id: str, raw_name: str) -> Item:
        item = self.item(item_id)
        if item.is_root:
            raise BadRequest("The root cannot be renamed.")
        name = self.check_name(raw_name)
        if item.state == PRESENT:
            item, path = self.fresh(item_id)
        else:
            path = self.path(item)
        with self.db.write() as connection:
            self.db.lock_folder(connection, item.parent_pk or ROOT_PK)
            folder = self._row(connection, pk=item.parent_pk)
            assert folder is not None
            if name_key(name) in self._taken(connection, folder, exclude_pk=item.pk):
                raise Conflict(f"The name {name!r} is taken in this folder.")
            columns: dict[str, Any] = {}
            if item.state == PRESENT:
                try:
                    entry = self.store.move(path, path[:-1], name)
                except FileExistsError:
                    raise Conflict(f"The name {name!r} is taken in this folder.") from None
                columns = entry_columns(entry)
            connection.execute(
                update(items)
                .where(items.c.pk == item.pk)
                .values(**columns, **name_columns(name, item.kind))
            )
            reconcile.touch(connection, folder.pk)
            renamed = self._row(connection, pk=item.pk)
        assert renamed is not None
        return renamed

    def move(self, item_id: str, folder_id: str, policy: str = "rename") -> Item:
        """Move an item into another folder, keeping its id (and its children's)."""
        item, path = self.fresh(item_id)
        if item.is_root or item.state != PRESENT:
            raise BadRequest("Only a present file or folder can be moved.")
        folder, folder_path = self._writable_folder(folder_id)
        if folder.pk == item.pk or folder.ancestry.startswith(item.child_ancestry):
            raise BadRequest("A folder cannot be moved into itself.")
        with self.db.write() as connection:
            self.db.lock_folders(connection, folder.pk, item.parent_pk)
            taken = self._taken(connection, folder, exclude_pk=item.pk)
            if name_key(item.name) in taken and policy == "fail":
                raise Conflict(f"The name {item.title!r} is taken in the target folder.")
            for candidate in _numbered(item.name, taken, is_folder=item.is_folder):
                try:
                    entry = self.store.move(path, folder_path, candidate)
                    break
                except FileExistsError:
                    taken.add(name_key(candidate))
            reconcile.relocate(connection, item, folder)
            connection.execute(
                update(items)
                .where(items.c.pk == item.pk)
                .values(**entry_columns(entry), **name_columns(entry.name, item.kind))
            )
            reconcile.touch(connection, folder.pk, item.parent_pk)
            moved = self._row(connection, pk=item.pk)
        assert moved is not None
        return moved

    def delete(self, item_id: str, acting_user: str) -> None:
        """Move the item (with its contents) to the trash; a reservation is just dropped."""
        item = self.item(item_id)
        if item.is_root:
            raise BadRequest("The root cannot be deleted.")
        if item.state == PENDING:
            with self.db.write() as connection:
                dropped = connection.execute(
                    delete(items).where(items.c.pk == item.pk, items.c.state == PENDING)
                ).rowcount
            if dropped:
                return
            # its upload finished meanwhile: delete the file
        item, path = self.fresh(item_id)
        token = new_id()
        now = time.time()
        with self.db.write() as connection:
            self.db.lock_folder(connection, item.parent_pk or ROOT_PK)
            reconcile.touch(connection, item.parent_pk)
            self.store.trash(path, token)
            connection.execute(
                insert(trash).values(
                    id=token,
                    item_pk=item.pk,
                    parent_pk=item.parent_pk,
                    title=item.title,
                    kind=item.kind,
                    deleted_at=now,
                    deleted_by=acting_user,
                )
            )
            for pks in _chunks(reconcile.subtree_pks(connection, item)):
                connection.execute(
                    update(items)
                    .where(items.c.pk.in_(pks), items.c.state.in_((PRESENT, PENDING)))
                    .values(state=TRASHED, trash_id=token, changed_at=now)
                )

    def expire_gone(self, older_than: float) -> int:
        """Forget items that left the store long ago (their ids are not coming back)."""
        with self.db.write() as connection:
            result = connection.execute(
                delete(items).where(items.c.state == GONE, items.c.changed_at < older_than)
            )
            expired = connection.execute(
                delete(items).where(
                    items.c.state == PENDING,
                    items.c.created_at < time.time() - RESERVATION_SECONDS,
                )
            )
        return int(result.rowcount or 0) + int(expired.rowcount or 0)


def _numbered(name: str, taken: set[str], is_folder: bool = False) -> Iterable[str]:
    for candidate in numbered_names(name, is_folder):
        if name_key(candidate) not in taken:
            yield candidate


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
