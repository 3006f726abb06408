"""The folder listings a process keeps, and when one may be answered again.

A listing is answered again only when nothing it was made from changed:

- the folder's generation, bumped by every change made through docrelay (by any
  instance, since it lives in the catalog);
- the store's listing of the folder: either its *shape* (every child's name, kind,
  size, modification time, etag and identity, as listed again now), or, where the store
  can vouch for it without listing (``Store.listing_stamp``: a local folder watched by
  inotify), a stamp taken before the listing was made. A listing vouched for by a stamp
  alone is listed again at the latest after ``TRUST_SECONDS``, which bounds what a change
  the kernel did not report (see docrelay/store/changes.py) can hide.

Listings are kept most recently used first, up to ``budget`` children in all.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from docrelay.catalog.items import Item
from docrelay.store.base import Entry

TRUST_SECONDS = 60.0

Shape = frozenset[tuple[Any, ...]]


def shape_of(entries: Sequence[Entry]) -> Shape:
    return frozenset(
        (entry.name, entry.kind, entry.size, entry.mtime_ns, entry.etag, entry.identity)
        for entry in entries
    )


@dataclass(eq=False)
class Listing:
    """A folder's present children, in listing order, as reconciled with the store."""

    folder_pk: int
    generation: int
    stamp: Hashable | None
    shape: Shape
    items: tuple[Item, ...]  # shared by every answer made from it: never changed
    listed_at: float = field(default_factory=time.monotonic)
    #: what callers derive from these items (e.g. their JSON), kept as long as they are
    memo: dict[Hashable, Any] = field(default_factory=dict)

    def vouched(self, generation: int, stamp: Hashable | None) -> bool:
        """Whether the listing holds by the folder's generation and the store's stamp."""
        return (
            stamp is not None
            and self.stamp == stamp
            and self.generation == generation
            and time.monotonic() - self.listed_at < TRUST_SECONDS
        )

    def renewed(self, stamp: Hashable | None) -> "Listing":
        """The same listing, found to hold by listing the store again now."""
        return replace(self, stamp=stamp, listed_at=time.monotonic())


class Listings:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._kept: OrderedDict[int, Listing] = OrderedDict()
        self._children = 0

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def get(self, folder_pk: int) -> Listing | None:
        with self._lock:
            listing = self._kept.get(folder_pk)
            if listing is not None:
                self._kept.move_to_end(folder_pk)
            return listing

    def put(self, listing: Listing) -> None:
        if not self.enabled:
            return
        if len(listing.items) > self.budget:
            self.drop(listing.folder_pk)
            return
        with self._lock:
            old = self._kept.pop(listing.folder_pk, None)
            if old is not None:
                self._children -= len(old.items)
            self._kept[listing.folder_pk] = listing
            self._children += len(listing.items)
            while self._children > self.budget:
                _pk, evicted = self._kept.popitem(last=False)
                self._children -= len(evicted.items)

    def drop(self, folder_pk: int) -> None:
        with self._lock:
            old = self._kept.pop(folder_pk, None)
            if old is not None:
                self._children -= len(old.items)

    def __len__(self) -> int:
        return len(self._kept)
