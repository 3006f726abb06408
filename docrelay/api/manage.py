"""uploadInit, upload, createFolder, rename, delete."""

import logging

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from docrelay import audit
from docrelay.api.context import Call
from docrelay.api.metadata import metadata
from docrelay.api.uploads import blocks, declared_length
from docrelay.errors import BadRequest

log = logging.getLogger("docrelay.api")

SUCCESS = {"status": "success"}


async def upload_init(call: Call) -> Response:
    params = call.params
    filename = params.required("filename")
    folder, folder_path = await call.writable(params.folder_id())
    item = await call.run(
        call.services.catalog.reserve,
        folder.id,
        filename,
        call.services.settings.on_conflict,
        params.get("documentId"),
        params.get("documentVersionId"),
    )
    audit.note(call.request, item, (*folder_path, item.name))
    return JSONResponse(metadata(call.services, item, call.read_only(item)))


async def upload(call: Call) -> Response:
    catalog = call.services.catalog
    limit = call.services.settings.max_upload_bytes
    item_id = call.params.required("id")
    call.require_write(await call.run(catalog.item, item_id))
    declared_length(call.request.headers.get("content-length"), limit, BadRequest)
    item, writer, temporary = await call.run(catalog.begin_upload, item_id)
    audit.note(call.request, item)
    try:
        content_type = call.request.headers.get("content-type", "")
        async for block in blocks(call.request.stream(), content_type, limit):
            await call.run(writer.write, block)
    except ClientDisconnect:
        log.info("The client left during the upload of %s; its content is unchanged", item.id)
        await call.run(catalog.abort_upload, writer, temporary)
        return Response(status_code=400)
    except BaseException:
        await call.run(catalog.abort_upload, writer, temporary)
        raise
    done = await call.run(
        catalog.finish_upload, item, writer, temporary, call.services.settings.on_conflict
    )
    audit.note(call.request, done)  # its name may have changed on a conflict
    return JSONResponse({"result": "success"})


async def create_folder(call: Call) -> Response:
    name = call.params.required("name")
    folder, folder_path = await call.writable(call.params.folder_id())
    item = await call.run(
        call.services.catalog.create_folder,
        folder.id,
        name,
        call.services.settings.on_conflict,
    )
    audit.note(call.request, item, (*folder_path, item.name))
    return JSONResponse(metadata(call.services, item, call.read_only(item)))


async def rename(call: Call) -> Response:
    item_id, name = call.params.required("id"), call.params.required("name")
    item = await call.run(call.services.catalog.item, item_id)
    audit.note(call.request, item)
    call.require_write(item)
    renamed = await call.run(call.services.catalog.rename, item_id, name)
    audit.note(call.request, renamed, old_name=item.title)
    return JSONResponse(SUCCESS)


async def delete(call: Call) -> Response:
    item_id = call.params.get("id") or call.params.get("documentId") or call.params.get("folderId")
    if not item_id:
        raise BadRequest("The parameter 'id' is required.")
    item = await call.run(call.services.catalog.item, item_id)
    audit.note(call.request, item)
    call.require_write(item)
    await call.run(call.services.catalog.delete, item_id, call.user)
    return JSONResponse(SUCCESS)
