"""metadata, files, search."""

import json
from typing import Any

from starlette.responses import JSONResponse, Response

from docrelay.api.context import Call
from docrelay.api.metadata import metadata
from docrelay.catalog import search as search_index
from docrelay.catalog.items import PENDING
from docrelay.errors import BadRequest


async def get_metadata(call: Call) -> Response:
    item, _path = await call.visible(call.params.required("id"))
    return JSONResponse(metadata(call.services, item, call.read_only(item)))


async def list_files(call: Call) -> Response:
    limit, offset = call.params.window()
    folder, _path = await call.visible(call.params.folder_id())
    catalog = call.services.catalog
    if catalog.is_virtual_top(folder):  # the roots, each with the acting user's rights
        children = await call.run(catalog.children, folder.id)
        shown = [child for child in children if call.rights(child) != "none"]
        window = shown[offset:] if limit is None else shown[offset : offset + limit]
        return JSONResponse(
            [metadata(call.services, item, call.read_only(item)) for item in window]
        )
    # every child is in the folder's root, and has the rights the user has on the folder
    read_only = call.read_only(folder)

    def rendered() -> bytes:
        listing = catalog.listing(folder.id)
        whole = limit is None and offset == 0
        body: bytes | None = listing.memo.get(("files", read_only, "body")) if whole else None
        if body is not None:
            return body
        objects: list[bytes] | None = listing.memo.get(("files", read_only))
        if objects is None:
            objects = [_json(metadata(call.services, item, read_only)) for item in listing.items]
            listing.memo[("files", read_only)] = objects
        answered = objects[offset:] if limit is None else objects[offset : offset + limit]
        body = b"[" + b",".join(answered) + b"]"
        if whole:
            listing.memo[("files", read_only, "body")] = body
        return body

    return Response(await call.run(rendered), media_type="application/json")


def _json(value: Any) -> bytes:
    """As JSONResponse renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def search(call: Call) -> Response:
    limit, offset = call.params.window()
    query = call.params.get("query")
    parent_id = call.params.get("parentId")
    catalog = call.services.catalog
    within = None
    if parent_id:
        within, _path = await call.visible(parent_id)
        if not within.is_folder or within.state == PENDING:
            raise BadRequest("The parent id is a file, not a folder.")
    hidden = catalog.root_prefixes(call.hidden_roots())

    def find() -> list[dict[str, Any]]:
        with catalog.db.read() as connection:
            found = search_index.search(
                connection, query, within=within, hidden=hidden, limit=limit, offset=offset
            )
        return [metadata(call.services, item, call.read_only(item)) for item in found]

    return JSONResponse(await call.run(find))
