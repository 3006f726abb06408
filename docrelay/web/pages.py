"""The browser pages behind ``viewLink`` and ``downloadLink`` (SPEC.md §1, §3).

A person opens them, with no key: the ``sig`` parameter, an HMAC of the page's purpose
and the id, is the only credential, and it is checked before the catalog is asked
anything, so a wrong signature never tells whether the id exists. Each page only
links further down: a folder's page signs links to its children, never to its parent.
"""

from collections.abc import Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from docrelay.api.content import file_response, thumbnail_response
from docrelay.catalog.items import Item
from docrelay.errors import MethodNotAllowed, NotFound
from docrelay.links import DOWNLOAD, THUMBNAIL, VIEW
from docrelay.services import Services
from docrelay.store.base import Path
from docrelay.web import render
from docrelay.web.display import item_view

Handler = Callable[[Request], Awaitable[Response]]
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_READ = frozenset({"GET", "HEAD"})


class Pages:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _signed_id(self, request: Request, purpose: str) -> str:
        """The id of the address, if ``sig`` signs it for ``purpose``; else 404."""
        item_id: str = request.path_params["item_id"]
        try:
            valid = self.services.links.verify(purpose, item_id, request.query_params.get("sig"))
        except UnicodeError:  # a lone surrogate cannot have been signed
            valid = False
        if not valid:
            raise NotFound("The link's signature does not match.")
        return item_id

    async def _fresh(self, item_id: str) -> tuple[Item, Path]:
        return await anyio.to_thread.run_sync(self.services.catalog.fresh, item_id)

    async def download(self, request: Request) -> Response:
        item, path = await self._fresh(self._signed_id(request, DOWNLOAD))
        return await file_response(self.services, request, item, path)

    async def thumbnail(self, request: Request) -> Response:
        item, path = await self._fresh(self._signed_id(request, THUMBNAIL))
        size = request.query_params.get("size")
        return await thumbnail_response(self.services, item, path, size)

    async def view(self, request: Request) -> Response:
        item, _path = await self._fresh(self._signed_id(request, VIEW))
        shown = item_view(self.services, item)
        if not item.is_folder:
            return render.page("file.html", {"title": shown.name, "item": shown})
        children = await anyio.to_thread.run_sync(self.services.catalog.children, item.id)
        entries = [item_view(self.services, child) for child in children]
        context = {"title": shown.name, "folder": shown, "entries": entries}
        return render.page("folder.html", context)


def _guarded(handler: Handler) -> Handler:
    """Answer every failure, and every method but GET and HEAD, with an error page."""

    async def endpoint(request: Request) -> Response:
        if request.method not in _READ:
            error = MethodNotAllowed(f"This page takes GET or HEAD, not {request.method}.")
            return render.error_page(error, {"Allow": "GET, HEAD"})
        try:
            response = await handler(request)
        except Exception as error:  # a page never answers bad input with a 500
            return render.failure_page(error)
        return render.secure(response)

    return endpoint


def routes(services: Services) -> list[BaseRoute]:
    pages = Pages(services)
    return [
        Route(f"/{purpose}/{{item_id:path}}", _guarded(handler), methods=_ANY_METHOD)
        for purpose, handler in (
            (VIEW, pages.view),
            (DOWNLOAD, pages.download),
            (THUMBNAIL, pages.thumbnail),
        )
    ]
