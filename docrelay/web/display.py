"""What the browser pages show of an item: its name, size, date and links, as text."""

import datetime
from dataclasses import dataclass

from docrelay.api.metadata import rfc3339
from docrelay.catalog.items import PENDING, Item
from docrelay.mediatypes import media_type
from docrelay.services import Services

PREVIEW_WIDTH = 800
_PREVIEWED = ("image/", "application/pdf")  # what docrelay.thumbnails renders (not SVG)
_UNITS = ("kB", "MB", "GB", "TB", "PB", "EB")


def human_size(size: int) -> str:
    """``1.2 MB``: decimal units, three significant digits at most; bytes below 1 kB."""
    if size < 1000:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in _UNITS:
        value /= 1000
        if value < 999.95 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}" if value < 99.95 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def exact_size(size: int) -> str:
    """``1,234,567 bytes``."""
    return "1 byte" if size == 1 else f"{size:,} bytes"


def shown_date(mtime_ms: int) -> str:
    """``5 Jun 2014, 17:39 UTC``: the same for every reader, whatever their locale."""
    moment = datetime.datetime.fromtimestamp(mtime_ms // 1000, datetime.UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


@dataclass(frozen=True)
class ItemView:
    """One item as a page shows it; every field is plain text, escaped by the template."""

    name: str
    is_folder: bool
    pending: bool
    size_text: str
    size_exact: str
    modified_text: str
    modified_iso: str
    media_type: str
    view_url: str
    download_url: str | None
    preview_url: str | None

    @property
    def kind_label(self) -> str:
        return "Folder" if self.is_folder else "File"

    @property
    def preview_is_icon(self) -> bool:
        """Whether the thumbnail is the kind's icon rather than a picture of the content."""
        return self.media_type == "image/svg+xml" or not self.media_type.startswith(_PREVIEWED)


def item_view(services: Services, item: Item) -> ItemView:
    links = services.links
    pending = item.state == PENDING
    has_bytes = not item.is_folder and not pending
    return ItemView(
        name=services.settings.display_name if item.is_root else item.title,
        is_folder=item.is_folder,
        pending=pending,
        size_text=human_size(item.size) if has_bytes else "",
        size_exact=exact_size(item.size) if has_bytes else "",
        modified_text=shown_date(item.mtime_ms),
        modified_iso=rfc3339(item.mtime_ms),
        media_type="" if item.is_folder else media_type(item.title),
        view_url=links.view(item.id),
        download_url=links.download(item.id) if has_bytes else None,
        preview_url=links.thumbnail(item.id, PREVIEW_WIDTH) if has_bytes else None,
    )
