"""The metadata object of SPEC.md §4."""

import time
from typing import Any

from docrelay.catalog.items import Item
from docrelay.mediatypes import media_type
from docrelay.services import Services

#: the instants RFC 3339 can write (years 0001 to 9999); a file dated outside is shown at
#: the nearest one
_FIRST_SECOND = -62_135_596_800
_LAST_SECOND = 253_402_300_799


def rfc3339(mtime_ms: int) -> str:
    """``2014-06-05T17:39:45.251Z``: UTC, milliseconds."""
    seconds, millis = divmod(mtime_ms, 1000)
    if not _FIRST_SECOND <= seconds <= _LAST_SECOND:
        seconds, millis = min(max(seconds, _FIRST_SECOND), _LAST_SECOND), 0
    moment = time.gmtime(seconds)
    if moment.tm_year >= 1000:  # strftime pads no year below 1000 on every C library
        return f"{time.strftime('%Y-%m-%dT%H:%M:%S', moment)}.{millis:03d}Z"
    return (
        f"{moment.tm_year:04d}-{moment.tm_mon:02d}-{moment.tm_mday:02d}T"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d}.{millis:03d}Z"
    )


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
