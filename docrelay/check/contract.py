"""The metadata object of SPEC.md §4, judged field by field as Workfront reads it."""

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from docrelay.check.runner import StepFailed
from docrelay.check.target import Target

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_ID = re.compile(r"[A-Za-z0-9._~-]{1,255}")
_PAGES = ("/view/", "/download/")
_FILE_ONLY = ("size", "mimeType", "downloadLink")


def _absolute(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _common(item: dict[str, Any]) -> list[str]:
    problems = []
    item_id = item.get("id")
    if not isinstance(item_id, str) or not (item_id == "/" or _ID.fullmatch(item_id)):
        problems.append(f"id {item_id!r} is not an opaque URL-safe string of 1 to 255 characters")
    if not isinstance(item.get("title"), str) or not item["title"]:
        problems.append("title is missing")
    date = item.get("dateModified")
    if not isinstance(date, str) or not _DATE.fullmatch(date) or not _valid_date(date):
        problems.append(f"dateModified {date!r} is not RFC 3339 UTC with ms")
    if not isinstance(item.get("readOnly"), bool):
        problems.append("readOnly is not a boolean")
    if not _absolute(item.get("viewLink")):
        problems.append(f"viewLink {item.get('viewLink')!r} is not an absolute URL")
    return problems


def _valid_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def _kind(item: dict[str, Any]) -> list[str]:
    kind = item.get("kind")
    if kind == "folder":
        extra = [name for name in _FILE_ONLY if name in item]
        return [f"a folder has {', '.join(extra)}"] if extra else []
    if kind != "file":
        return [f"kind {kind!r} is neither 'file' nor 'folder'"]
    problems = []
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        problems.append(f"size {size!r} is not a JSON integer")
    mime = item.get("mimeType")
    if not isinstance(mime, str) or "/" not in mime:
        problems.append(f"mimeType {mime!r} is not a media type")
    if not _absolute(item.get("downloadLink")):
        problems.append(f"downloadLink {item.get('downloadLink')!r} is not an absolute URL")
    return problems


def check_item(item: Any, where: str) -> dict[str, Any]:
    """``item`` if it is a metadata object; else ``StepFailed`` naming what is wrong."""
    if not isinstance(item, dict):
        raise StepFailed(f"{where} is {type(item).__name__}, not a metadata object")
    problems = _common(item) + _kind(item)
    if problems:
        title = item.get("title")
        named = f"{where} {title!r}" if isinstance(title, str) else where
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StepFailed(f"{named}: {problems[0]}{more}")
    return item


def check_listing(body: Any, where: str) -> list[dict[str, Any]]:
    """A bare array of metadata objects, folders first."""
    if not isinstance(body, list):
        raise StepFailed(f"{where} is {type(body).__name__}, not a bare JSON array")
    items = [check_item(item, f"an item of {where}") for item in body]
    kinds = [item["kind"] for item in items]
    if "file" in kinds and "folder" in kinds[kinds.index("file") :]:
        raise StepFailed(f"{where} lists a folder after a file; folders come first")
    return items


def _link_base(link: str) -> tuple[str, str]:
    """The origin a link was built on, and the path prefix before its page."""
    parts = urlsplit(link)
    cut = min((parts.path.find(page) for page in _PAGES if page in parts.path), default=-1)
    return f"{parts.scheme}://{parts.netloc}", parts.path[:cut] if cut > 0 else ""


def check_links(item: dict[str, Any], target: Target) -> None:
    """The links are on the address the server was reached at: a wrong ``public_url``
    is the commonest misconfiguration, so the reason says so in its words. The links
    themselves are never shown: their signature opens the document."""
    prefix = urlsplit(target.public).path
    for name in ("viewLink", "downloadLink"):
        link = item.get(name)
        if not isinstance(link, str):
            continue
        origin, link_prefix = _link_base(link)
        if target.same_origin(link) and link_prefix.rstrip("/") == prefix:
            continue
        raise StepFailed(
            f"links point to {origin}{link_prefix} but the server was reached at "
            f"{target.public}; set public_url to the address Workfront and browsers use "
            f"(seen in {name})"
        )
