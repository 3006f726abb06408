"""What an endpoint handler gets: the request, its parameters and the acting user."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request

from docrelay.api.params import Params
from docrelay.catalog.items import Item
from docrelay.config import RuleAccess
from docrelay.errors import Forbidden, NotFound
from docrelay.services import Services
from docrelay.store.base import Path

T = TypeVar("T")


@dataclass
class Call:
    services: Services
    request: Request
    params: Params
    endpoint: str
    user: str = ""
    forced_read_only: bool = False  # e.g. a user made read-only, whatever the rules say

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (catalog, store) off the event loop."""
        return await anyio.to_thread.run_sync(function, *args)

    def rights(self, item: Item) -> RuleAccess:
        """The acting user's access to the item's root."""
        catalog = self.services.catalog
        if catalog.is_virtual_top(item):
            return "read-only"  # the top of several roots holds nothing of its own
        rights = self.services.access.access_for(self.user, catalog.root_of(item))
        if rights == "read-write" and self.forced_read_only:
            return "read-only"
        return rights

    def read_only(self, item: Item) -> bool:
        return self.rights(item) != "read-write"

    def require_visible(self, item: Item) -> None:
        if self.rights(item) == "none":
            raise NotFound("No item has this id.")

    def require_write(self, item: Item) -> None:
        self.require_visible(item)
        if self.read_only(item):
            raise Forbidden(f"The user {self.user!r} may not change this folder.")

    async def visible(self, item_id: str) -> tuple[Item, Path]:
        """The item, checked against the store now, if the acting user may see it."""
        item, path = await self.run(self.services.catalog.fresh, item_id)
        self.require_visible(item)
        return item, path

    async def writable(self, item_id: str) -> tuple[Item, Path]:
        """The item, if the acting user may change it (or what it holds)."""
        item, path = await self.visible(item_id)
        self.require_write(item)
        return item, path

    def hidden_roots(self) -> list[str]:
        """The roots the acting user may not see."""
        names = self.services.catalog.root_names()
        return [
            name for name in names if self.services.access.access_for(self.user, name) == "none"
        ]
