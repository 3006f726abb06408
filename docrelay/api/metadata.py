"""The metadata object of SPEC.md §4."""

import datetime
from typing import Any

from docrelay.catalog.items import Item
from docrelay.mediatypes import media_type
from docrelay.services import Services


def rfc3339(mtime_ms: int) -> str:
    """``2014-06-05T17:39:45.251Z``: UTC, milliseconds."""
    seconds, millis = divmod(mtime_ms, 1000)
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def metadata(services: Services, item: Item, read_only: bool) -> dict[str, Any]:
    title = services.settings.display_name if item.is_root else item.title
    obj: dict[str, Any] = {
        "id": item.id,
        "title": title,
        "kind": item.kind,
        "dateModified": rfc3339(item.mtime_ms),
    }
    if item.kind == "file":
        obj["size"] = item.size
        obj["mimeType"] = media_type(item.title)
    obj["viewLink"] = services.links.view(item.id)
    if item.kind == "file":
        obj["downloadLink"] = services.links.download(item.id)
    obj["readOnly"] = read_only
    return obj
