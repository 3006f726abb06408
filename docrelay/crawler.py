"""Background work: catalogue what changes in the store behind docrelay's back.

Two threads. The watcher follows file-system events of a local root and reconciles the
folders they name within a second. The crawler walks the whole tree every
``crawl_interval`` seconds as the safety net (events miss changes made by other hosts
on a network share) and does the housekeeping: forgetting long-gone items and expired
reservations, and purging the trash after its retention.
"""

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path as FsPath

from docrelay.catalog.catalog import Catalog
from docrelay.catalog.items import ROOT_ID, Item
from docrelay.catalog.lease import Lease
from docrelay.catalog.trash import Trash
from docrelay.errors import DocrelayError
from docrelay.names import INTERNAL_PREFIX
from docrelay.store.base import Path, Store
from docrelay.store.local import LocalStore
from docrelay.store.roots import RootsStore

log = logging.getLogger("docrelay.crawler")

GONE_KEPT_SECONDS = 30 * 24 * 3600
# the server value that says when the last complete crawl ended, read by /metrics
LAST_CRAWL = "last_crawl"


class Crawler:
    def __init__(self, catalog: Catalog, interval: float, retention_days: float) -> None:
        self.catalog = catalog
        self.interval = interval
        self.retention = retention_days * 24 * 3600
        self.stop_event = threading.Event()
        # one instance at a time crawls a shared catalog; a stopped holder's lease expires
        self.lease = Lease(catalog.db, "crawler", max(3 * interval, 60.0))
        self._threads: list[threading.Thread] = []
        self.crawls = 0

    def crawl(self) -> int:
        """Reconcile every folder once; the number of folders visited."""
        started = time.monotonic()
        visited = 0
        root, root_path = self.catalog.fresh(ROOT_ID)
        pending: list[tuple[Item, Path]] = [(root, root_path)]
        while pending and not self.stop_event.is_set():
            folder, path = pending.pop()
            try:
                children = self.catalog.reconcile(folder, path)
            except (DocrelayError, OSError) as error:
                log.debug("Skipped %r: %s", "/".join(path), error)
                continue
            visited += 1
            pending.extend((child, (*path, child.name)) for child in children if child.is_folder)
        self.crawls += 1
        if not self.stop_event.is_set():  # kept in the catalog: every instance can tell
            seconds = round(time.monotonic() - started, 3)
            done = json.dumps({"finished": time.time(), "seconds": seconds})
            self.catalog.set_server_value(LAST_CRAWL, done)
        return visited

    def housekeeping(self) -> None:
        now = time.time()
        self.catalog.expire_gone(now - GONE_KEPT_SECONDS)
        self.catalog.sweep_temporaries()
        purged = Trash(self.catalog).purge(now - self.retention)
        if purged:
            log.info("Purged %d items from the trash after %g days", purged, self.retention / 86400)

    def _crawl_loop(self) -> None:
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                if self.lease.acquire():
                    folders = self.crawl()
                    self.housekeeping()
                    log.debug("Crawled %d folders in %.2fs", folders, time.monotonic() - started)
            except Exception:
                log.exception("The crawl failed; the next one runs in %gs", self.interval)
            self.stop_event.wait(self.interval)
        try:
            self.lease.release()
        except Exception:
            log.debug("The crawler lease was not released; it expires by itself", exc_info=True)

    def _watch_loop(self, root: FsPath, prefix: Path) -> None:
        """Follow file events, and follow them again when the watch fails (watchfiles
        stops on, e.g., an event for a name that is not UTF-8), waiting longer each time
        it fails soon after it started, up to a minute."""
        pause = 1.0
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                self._watch(root, prefix)
            except Exception as error:
                if time.monotonic() - started > 60:
                    pause = 1.0
                log.warning(
                    "File events stopped (%s: %s); following them again in %gs",
                    type(error).__name__,
                    error,
                    pause,
                )
                self.stop_event.wait(pause)
                pause = min(pause * 2, 60.0)
            else:
                return  # stopped

    def _watch(self, root: FsPath, prefix: Path) -> None:
        import watchfiles

        watching = False
        for changes in watchfiles.watch(
            root,
            stop_event=self.stop_event,
            debounce=300,
            step=100,
            raise_interrupt=False,
            ignore_permission_denied=True,
            watch_filter=_not_internal,
            yield_on_timeout=True,  # an empty first yield says the watch is in place
            rust_timeout=1000,
        ):
            if not watching:
                watching = True
                log.info("Following file events under %s", root)
            self._changed(root, prefix, changes)

    def _changed(self, root: FsPath, prefix: Path, changes: Iterable[tuple[object, str]]) -> None:
        """Reconcile the folders that changed. A new folder is walked whole: what was
        put into it before its own watch was in place sent no event."""
        folders = {FsPath(changed).parent for _change, changed in changes}
        new_folders = {FsPath(changed) for _change, changed in changes if os.path.isdir(changed)}
        for folder in sorted(folders | new_folders):
            item_path = self._reconcile_at(root, prefix, folder)
            if item_path is not None and folder in new_folders:
                self._walk_from(*item_path)

    def _walk_from(self, folder: Item, path: Path) -> None:
        pending = [(folder, path)]
        while pending and not self.stop_event.is_set():
            item, item_path = pending.pop()
            try:
                children = self.catalog.reconcile(item, item_path)
            except (DocrelayError, OSError):
                continue
            pending.extend(
                (child, (*item_path, child.name)) for child in children if child.is_folder
            )

    def _reconcile_at(self, root: FsPath, prefix: Path, folder: FsPath) -> tuple[Item, Path] | None:
        try:
            relative = (*prefix, *folder.relative_to(root).parts)
            item, path = self.catalog.fresh(ROOT_ID)
            for name in relative:
                children = self.catalog.reconcile(item, path)
                item = next(child for child in children if child.name == name)
                path = (*path, name)
            self.catalog.reconcile(item, path)
        except (StopIteration, ValueError, DocrelayError, OSError) as error:
            log.debug("No reconcile of %s after an event: %s", folder, error)
            return None
        return item, path

    def start(self, watch: bool) -> None:
        for folder, prefix in _local_folders(self.catalog.store) if watch else []:
            self._spawn("docrelay-watch", partial(self._watch_loop, folder, prefix))
        if self.interval > 0:
            self._spawn("docrelay-crawl", self._crawl_loop)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=5)


def _local_folders(store: Store) -> list[tuple[FsPath, Path]]:
    """The local folders behind a store, each with the path it has in the tree."""
    if isinstance(store, LocalStore):
        return [(store.root, ())]
    if isinstance(store, RootsStore):
        return [
            (inner.root, (name,))
            for name, inner in store.stores.items()
            if isinstance(inner, LocalStore)
        ]
    return []


def _not_internal(_change: object, path: str) -> bool:
    return INTERNAL_PREFIX not in path
