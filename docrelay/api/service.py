"""serviceInfo and customAction."""

import logging

from starlette.responses import JSONResponse, Response

from docrelay import __version__, audit
from docrelay.actions import ActionContext
from docrelay.api.context import Call
from docrelay.catalog.items import PRESENT
from docrelay.errors import BadRequest, DocrelayError, NotFound

log = logging.getLogger("docrelay.actions")

ENDPOINTS = [
    "files",
    "metadata",
    "search",
    "download",
    "thumbnail",
    "uploadInit",
    "upload",
    "createFolder",
    "rename",
    "delete",
    "customAction",
]


async def service_info(call: Call) -> Response:
    return JSONResponse(
        {
            "webhookVersion": "1.2",
            "version": __version__,
            "publisher": call.services.settings.publisher,
            "availableEndpoints": ENDPOINTS,
            "customActions": call.services.actions.listed(),
        }
    )


async def custom_action(call: Call) -> Response:
    params = call.params
    name = params.get("name", "action")
    if not name:
        raise BadRequest("The parameter 'name' is required.")
    action = call.services.actions.get(name)
    catalog = call.services.catalog
    document_id = params.get("documentId")
    item_id = params.get("id")
    if item_id:
        item, _path = await call.visible(item_id)
    elif document_id:
        item = await call.run(catalog.by_workfront_document, document_id)
        call.require_visible(item)
    else:
        raise BadRequest("The parameter 'documentId' is required.")
    audit.note(call.request, item, custom_action=name)
    if item.state != PRESENT:
        raise NotFound("The document has no content yet.")
    context = ActionContext(
        item=item,
        acting_user=call.user,
        read_only=call.read_only(item),
        catalog=catalog,
        settings=call.services.settings,
        workfront_document_id=document_id,
        workfront_version_id=params.get("documentVersionId"),
    )
    try:
        outcome = await call.run(action.handler, context)
    except (DocrelayError, OSError):
        raise
    except Exception:
        log.exception("The custom action %r failed on %s", name, item.id)
        raise DocrelayError(f"The action {action.display_name!r} failed.") from None
    log.info("Custom action %r on %s by %s: %s", name, item.id, call.user, outcome)
    return JSONResponse({"status": "success"})
