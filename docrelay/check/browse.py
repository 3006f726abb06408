"""The first steps of the plan: reachability, service info, authentication, the root
listing, a folder, and the metadata of a listed item."""

import ipaddress
import secrets

from docrelay.check.contract import check_item, check_links, check_listing
from docrelay.check.logins import ApiKeyLogin
from docrelay.check.runner import StepFailed, StepSkipped
from docrelay.check.state import State
from docrelay.check.target import error_text, json_of, plural, status_reason

_READ_ENDPOINTS = ("files", "metadata", "search", "download", "thumbnail")
_WRITE_ENDPOINTS = ("uploadInit", "upload", "createFolder", "rename", "delete")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reach(state: State) -> str:
    """An HTTP answer at all: no refused connection, name, certificate or time-out."""
    with state.http.stream("GET", f"{state.target.api}/serviceInfo") as response:
        stream = response.extensions.get("network_stream")
        tls = stream.get_extra_info("ssl_object") if stream is not None else None
    if state.target.public.startswith("https:"):
        version = tls.version() if tls is not None else "TLS"
        return f"{version}, certificate valid for {state.target.host}"
    if _loopback(state.target.host):
        return "plain HTTP on a loopback address: for trying out; a deployment goes behind TLS"
    return "plain HTTP: Workfront reaches docrelay over the internet, put TLS in front of it"


def service_info(state: State) -> str:
    response = state.http.request("GET", f"{state.target.api}/serviceInfo")
    state.http.expect(response, 200, "/serviceInfo without credentials")
    body = json_of(response, "/serviceInfo")
    if not isinstance(body, dict):
        raise StepFailed("/serviceInfo answered no JSON object")
    if body.get("webhookVersion") != "1.2":
        raise StepFailed(f"webhookVersion is {body.get('webhookVersion')!r}, not '1.2'")
    endpoints = body.get("availableEndpoints")
    if not isinstance(endpoints, list) or not endpoints:
        raise StepFailed("availableEndpoints is missing or empty")
    wanted = _READ_ENDPOINTS + (_WRITE_ENDPOINTS if state.write else ())
    missing = [name for name in wanted if name not in endpoints]
    if missing:
        raise StepFailed(f"availableEndpoints lacks {', '.join(missing)}")
    version = body.get("version", "?")
    return f"webhookVersion 1.2, {len(endpoints)} endpoints, {body.get('publisher')} {version}"


def _refused(state: State, headers: dict[str, str], what: str) -> None:
    response = state.http.request(
        "GET", f"{state.target.api}/metadata", params={"id": "/"}, headers=headers
    )
    if response.status_code == 200:
        raise StepFailed(f"{what} got 200: authentication is not enforced")
    if response.status_code != 403:
        raise StepFailed(f"{what} got {response.status_code}, not 403")


def authentication(state: State) -> str:
    """No or wrong credentials get 403 (authentication is enforced; with an API key, also
    the key without a username); the given ones do not."""
    wrong = f"docrelay-check-wrong-{secrets.token_hex(8)}"
    _refused(state, {}, "a call without credentials")
    if isinstance(state.login, ApiKeyLogin):
        state.headers = {"apiKey": state.login.api_key, "username": state.login.username}
        _refused(state, {"apiKey": wrong, "username": state.login.username}, "a wrong API key")
        _refused(state, {"apiKey": state.login.api_key}, "the API key without a username")
        who = f"the API key (acting user {state.login.username!r})"
    else:
        _refused(state, {"Authorization": f"Bearer {wrong}"}, "a wrong bearer token")
        who = "the bearer token"
    answer = state.call("GET", "metadata", params={"id": "/"})
    if answer.status_code == 503:  # credentials are judged before the store is asked
        return f"wrong credentials get 403; {who} is accepted (the store answered 503)"
    if answer.status_code in (401, 403):
        raise StepFailed(f"{who} was refused: {answer.status_code} ({error_text(answer)})")
    if answer.status_code != 200:
        raise StepFailed(status_reason(answer, f"/metadata?id=/ with {who}"))
    return f"wrong credentials get 403; {who} gets 200"


def root_listing(state: State) -> str:
    body = state.ok("GET", "files", "/files?parentId=/", params={"parentId": "/"})
    state.root = check_listing(body, "/files?parentId=/")
    folders = sum(item["kind"] == "folder" for item in state.root)
    if not state.root:
        return "the root is empty: later steps have nothing to open"
    return f"{plural(len(state.root), 'item')} ({plural(folders, 'folder')}), folders first"


def browse(state: State) -> str:
    folder = next((item for item in state.root if item["kind"] == "folder"), None)
    if folder is None:
        raise StepSkipped("the root has no folder to browse into")
    where = f"/files of {folder['title']!r}"
    body = state.ok("GET", "files", where, params={"parentId": folder["id"]})
    state.folder, state.folder_items = folder, check_listing(body, where)
    return f"{folder['title']!r}: {plural(len(state.folder_items), 'item')}"


def metadata(state: State) -> str:
    """The metadata object of a listed item equals its listing entry, links included."""
    item = state.smallest_file() or state.folder or next(iter(state.root), None)
    if item is None:
        raise StepSkipped("no item is listed in the root or its first folder")
    state.item = item
    body = state.ok("GET", "metadata", f"/metadata of {item['title']!r}", params={"id": item["id"]})
    found = check_item(body, "/metadata")
    differ = sorted(key for key in {*found, *item} if found.get(key) != item.get(key))
    if differ:
        raise StepFailed(f"/metadata of {item['title']!r} differs from its listing in {differ}")
    check_links(found, state.target)
    state.metadata = found
    return f"{item['title']!r} ({item['kind']}) equals its listing entry; links on the public URL"
