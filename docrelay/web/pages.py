"""The browser pages behind ``viewLink`` and ``downloadLink`` (SPEC.md §1, §3).

A person opens them, with no key: the ``sig`` parameter, an HMAC of the page's purpose
and the id, is the only credential, and it is checked before the catalog is asked
anything, so a wrong signature never tells whether the id exists. Each page only
links further down: a folder's page signs links to its children, never to its parent.

With ``links = "sign-in"`` the links carry no signature: the visitor signs in instead
(``docrelay.web.signin``), sees what their rights allow, and folder pages show the
folders above as breadcrumbs.
"""

from collections.abc import Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from docrelay import audit
from docrelay.api.content import file_response, thumbnail_response
from docrelay.catalog.items import Item
from docrelay.errors import MethodNotAllowed, NotFound
from docrelay.links import DOWNLOAD, THUMBNAIL, VIEW
from docrelay.services import Services
from docrelay.store.base import Path
from docrelay.web import render
from docrelay.web.display import item_view
from docrelay.web.signin import SignIn, require_session
from docrelay.web.viewer import crumbs, require_visible, visible

Handler = Callable[[Request], Awaitable[Response]]
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_READ = frozenset({"GET", "HEAD"})


class Pages:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.sign_in = services.settings.link_mode() == "sign-in"

    def _signed_id(self, request: Request, purpose: str) -> str:
        """The id of the address, if ``sig`` signs it for ``purpose``; else 404."""
        item_id: str = request.path_params["item_id"]
        if self.sign_in:
            return item_id  # the visitor signed in instead (``require_session``)
        try:
            valid = self.services.links.verify(purpose, item_id, request.query_params.get("sig"))
        except UnicodeError:  # a lone surrogate cannot have been signed
            valid = False
        if not valid:
            raise NotFound("The link's signature does not match.")
        return item_id

    async def _fresh(self, request: Request, item_id: str) -> tuple[Item, Path]:
        item, path = await anyio.to_thread.run_sync(self.services.catalog.fresh, item_id)
        viewer = getattr(request.state, "viewer", None)
        if viewer is not None:
            await anyio.to_thread.run_sync(require_visible, self.services, viewer, item)
        return item, path

    async def download(self, request: Request) -> Response:
        item, path = await self._fresh(request, self._signed_id(request, DOWNLOAD))
        return await file_response(self.services, request, item, path)

    async def thumbnail(self, request: Request) -> Response:
        item, path = await self._fresh(request, self._signed_id(request, THUMBNAIL))
        audit.note(request, item, path)
        size = request.query_params.get("size")
        return await thumbnail_response(self.services, item, path, size)

    async def view(self, request: Request) -> Response:
        item, _path = await self._fresh(request, self._signed_id(request, VIEW))
        shown = item_view(self.services, item)
        viewer = getattr(request.state, "viewer", None)
        context: dict[str, object] = {
            "title": shown.name,
            "account": getattr(request.state, "account", None),
            "crumbs": [],
        }
        if viewer is not None:
            context["crumbs"] = await anyio.to_thread.run_sync(crumbs, self.services, viewer, item)
        if not item.is_folder:
            return render.page("file.html", {**context, "item": shown})
        children = await anyio.to_thread.run_sync(self.services.catalog.children, item.id)
        if viewer is not None:
            children = await anyio.to_thread.run_sync(visible, self.services, viewer, children)
        entries = [item_view(self.services, child) for child in children]
        return render.page("folder.html", {**context, "folder": shown, "entries": entries})


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
    gate = SignIn(services) if pages.sign_in else None

    def guarded(handler: Handler) -> Handler:
        return _guarded(handler if gate is None else require_session(gate, handler))

    return [
        Route(f"/{purpose}/{{item_id:path}}", guarded(handler), methods=_ANY_METHOD)
        for purpose, handler in (
            (VIEW, pages.view),
            (DOWNLOAD, pages.download),
            (THUMBNAIL, pages.thumbnail),
        )
    ]
