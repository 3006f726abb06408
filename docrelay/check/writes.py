"""With ``--write``: a scratch folder ``docrelay-check-<random>`` in the root, a small
file uploaded into it, read back, renamed, and both deleted again. ``clean_up`` runs
whatever happened before it, so that a failed step leaves nothing behind in the store
(docrelay keeps deleted items in its trash, as for every delete)."""

from typing import Any

from docrelay.check.contract import check_item, check_listing
from docrelay.check.runner import StepFailed
from docrelay.check.state import Scratch, State
from docrelay.check.target import json_of, status_reason

RENAMED = "docrelay-check-renamed.txt"


def _scratch(state: State) -> Scratch:
    assert state.scratch is not None
    return state.scratch


def _id_of(body: Any) -> str | None:
    item_id = body.get("id") if isinstance(body, dict) else None
    return item_id if isinstance(item_id, str) else None


def create_folder(state: State) -> str:
    scratch = _scratch(state)
    params = {"parentId": "/", "name": scratch.folder_name}
    body = state.ok("POST", "createFolder", "/createFolder", params=params)
    scratch.folder_id = _id_of(body)  # kept before judging, to be removed whatever follows
    item = check_item(body, "/createFolder")
    if item["kind"] != "folder":
        raise StepFailed(f"/createFolder made a {item['kind']!r}")
    return f"{item['title']!r} in the root"


def upload_init(state: State) -> str:
    scratch = _scratch(state)
    params = {"parentId": scratch.folder_id, "filename": scratch.file_name}
    body = state.ok("POST", "uploadInit", "/uploadInit", params=params)
    scratch.file_id = _id_of(body)
    item = check_item(body, "/uploadInit")
    if item["kind"] != "file" or item.get("size") != 0:
        raise StepFailed(f"/uploadInit answered a {item['kind']} of size {item.get('size')!r}")
    return f"reserved {item['title']!r} (size 0)"


def upload(state: State) -> str:
    scratch = _scratch(state)
    headers = {"Content-Type": "application/octet-stream"}
    answer = state.call(
        "PUT", "upload", params={"id": scratch.file_id}, content=scratch.content, headers=headers
    )
    state.http.expect(answer, 200, "/upload")
    if json_of(answer, "/upload") != {"result": "success"}:
        raise StepFailed(f"/upload answered {answer.text[:80]!r}, not {{'result': 'success'}}")
    return f"{len(scratch.content)} bytes, {{'result': 'success'}}"


def read_back(state: State) -> str:
    """The upload is listed, its size is right and its bytes come back unchanged."""
    scratch = _scratch(state)
    where = "/files of the scratch folder"
    listing = check_listing(
        state.ok("GET", "files", where, params={"parentId": scratch.folder_id}), where
    )
    if [item["id"] for item in listing] != [scratch.file_id]:
        raise StepFailed(f"{where} lists {len(listing)} items, not just the upload")
    item = check_item(
        state.ok("GET", "metadata", "/metadata", params={"id": scratch.file_id}), "/metadata"
    )
    if item["size"] != len(scratch.content):
        raise StepFailed(f"/metadata gives size {item['size']}, {len(scratch.content)} were sent")
    answer = state.call("GET", "download", params={"id": scratch.file_id})
    state.http.expect(answer, 200, "/download of the upload")
    if answer.content != scratch.content:
        raise StepFailed("/download of the upload gives other bytes than were uploaded")
    return f"listed, size {item['size']}, the same bytes downloaded"


def _status_success(state: State, method: str, endpoint: str, params: dict[str, Any]) -> None:
    answer = state.call(method, endpoint, params=params)
    if answer.status_code != 200:
        raise StepFailed(status_reason(answer, f"/{endpoint}"))
    if json_of(answer, f"/{endpoint}") != {"status": "success"}:
        raise StepFailed(f"/{endpoint} answered {answer.text[:80]!r}, not status success")


def _gone(state: State, item_id: str | None, what: str) -> None:
    answer = state.call("GET", "metadata", params={"id": item_id})
    if answer.status_code != 404:
        raise StepFailed(f"/metadata of the deleted {what} answered {answer.status_code}, not 404")


def rename(state: State) -> str:
    scratch = _scratch(state)
    _status_success(state, "PUT", "rename", {"id": scratch.file_id, "name": RENAMED})
    item = state.ok("GET", "metadata", "/metadata", params={"id": scratch.file_id})
    if item.get("title") != RENAMED:
        raise StepFailed(f"after /rename the title is {item.get('title')!r}, not {RENAMED!r}")
    return f"{scratch.file_name!r} → {RENAMED!r}, same id"


def delete_file(state: State) -> str:
    scratch = _scratch(state)
    _status_success(state, "PUT", "delete", {"id": scratch.file_id})
    _gone(state, scratch.file_id, "file")
    return "status success; /metadata of it now 404"


def delete_folder(state: State) -> str:
    scratch = _scratch(state)
    _status_success(state, "PUT", "delete", {"id": scratch.folder_id})
    scratch.removed = True
    _gone(state, scratch.folder_id, "folder")
    return "status success; /metadata of it now 404"


def clean_up(state: State) -> str:
    scratch = _scratch(state)
    if scratch.folder_id is None:
        return "nothing was made"
    if scratch.removed:
        return "nothing left behind"
    try:
        answer = state.call("PUT", "delete", params={"id": scratch.folder_id})
    except StepFailed as failure:
        why = failure.reason
    else:
        if answer.status_code in (200, 404):
            scratch.removed = True
            return f"removed the scratch folder {scratch.folder_name!r} after the failure"
        why = status_reason(answer, "/delete")
    raise StepFailed(
        f"the scratch folder {scratch.folder_name!r} may still be in the root ({why}); "
        "delete it in Workfront or in the store"
    )
