"""The content steps: the browser links, search, the thumbnail, the download and a
range of it."""

import io
import re

from docrelay.check.contract import check_listing
from docrelay.check.runner import StepFailed, StepSkipped
from docrelay.check.state import Item, State
from docrelay.check.target import Http, plural

_READ_AT_MOST = 32 * 1024 * 1024  # a larger file's bytes are counted from its headers only
_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
_THUMBNAIL = 200


def _status(http: Http, link: str) -> tuple[int, str]:
    """The status and ``Location`` of a GET, without reading a file's bytes."""
    with http.stream("GET", link) as answer:
        return answer.status_code, answer.headers.get("location", "")


def _open_link(state: State, name: str, link: str) -> str:
    """A link opens without a key: 200, or docrelay's sign-in when ``links`` is sign-in."""
    bare = Http(state.target, state.http.timeout)  # no key, no cookie
    try:
        status, location = _status(bare, link)
    finally:
        bare.close()
    if status == 200:
        return "opens"
    if status not in (302, 303) or not location.startswith(f"{state.target.public}/signin"):
        raise StepFailed(f"{name} answered {status} without a key, not 200")
    if not state.browser.client.cookies:
        return "asks for a docrelay sign-in (links = sign-in)"
    status, _location = _status(state.browser, link)  # signed in by the OAuth2 step
    if status != 200:
        raise StepFailed(f"{name} answered {status} to a signed-in browser")
    return "opens after the sign-in"


def links(state: State) -> str:
    assert state.metadata is not None
    said = []
    for name in ("viewLink", "downloadLink"):
        link = state.metadata.get(name)
        if isinstance(link, str):
            said.append(f"{name} {_open_link(state, name, link)}")
    return "; ".join(said)


def _query_for(title: str) -> str:
    stem = title.rsplit(".", 1)[0] if title.rfind(".") > 0 else title
    words = [word for word in re.split(r"\s+", stem) if word]
    return max(words, key=len) if words else title


def search(state: State) -> str:
    item = state.item or next(iter(state.listed()), None)
    if item is None:
        raise StepSkipped("no listed item to search for")
    query = _query_for(str(item["title"]))
    where = f"/search?query={query!r}"
    found = check_listing(state.ok("GET", "search", where, params={"query": query}), where)
    if not any(hit["id"] == item["id"] for hit in found):
        raise StepFailed(f"{where} did not find {item['title']!r} ({plural(len(found), 'result')})")
    return f"{query!r} finds {item['title']!r} ({plural(len(found), 'result')})"


def thumbnail(state: State) -> str:
    item = state.item or next(iter(state.listed()), None)
    if item is None:
        raise StepSkipped("no listed item to preview")
    params = {"id": item["id"], "size": str(_THUMBNAIL)}
    answer = state.http.expect(state.call("GET", "thumbnail", params=params), 200, "/thumbnail")
    kind = answer.headers.get("content-type", "").split(";")[0].strip()
    if kind not in _MAGIC or not answer.content.startswith(_MAGIC[kind]):
        raise StepFailed(f"/thumbnail answered {kind or 'no type'}, not a PNG or JPEG image")
    from PIL import Image

    try:
        width, height = Image.open(io.BytesIO(answer.content)).size
    except OSError as error:
        raise StepFailed(f"/thumbnail is not a readable image: {error}") from None
    if width > _THUMBNAIL or height > 4 * _THUMBNAIL:
        raise StepFailed(
            f"/thumbnail is {width}×{height}, larger than {_THUMBNAIL}×{4 * _THUMBNAIL}"
        )
    return f"{kind} {width}×{height} for {item['title']!r}"


def _the_file(state: State) -> Item:
    item = state.smallest_file()
    if item is None:
        raise StepSkipped("no file is listed in the root or its first folder")
    return item


def download(state: State) -> str:
    item = _the_file(state)
    size = int(item["size"])
    url, params = f"{state.target.api}/download", {"id": item["id"]}
    with state.http.stream("GET", url, params=params, headers=state.headers) as answer:
        state.http.expect(answer, 200, "/download")
        if answer.headers.get("content-encoding", "identity") != "identity":
            coding = answer.headers["content-encoding"]
            raise StepFailed(f"/download is {coding}-encoded (a proxy?): lengths and ranges break")
        length = answer.headers.get("content-length")
        if length != str(size):
            raise StepFailed(f"/download has Content-Length {length}, but size is {size}")
        if size > _READ_AT_MOST:
            return f"{item['title']!r}: Content-Length {size} matches size (bytes not read)"
        received = sum(len(chunk) for chunk in answer.iter_raw())
    if received != size:
        raise StepFailed(f"/download sent {received} bytes of {size}")
    return f"{item['title']!r}: {size} bytes, Content-Length matches size"


def ranged(state: State) -> str:
    item = _the_file(state)
    size = int(item["size"])
    headers = {"Range": "bytes=0-0"}
    answer = state.call("GET", "download", params={"id": item["id"]}, headers=headers)
    if size == 0:
        state.http.expect(answer, 416, "a range of an empty file")
        return "an empty file: bytes=0-0 gets 416"
    state.http.expect(answer, 206, "/download with Range: bytes=0-0")
    content_range = answer.headers.get("content-range")
    if content_range != f"bytes 0-0/{size}" or len(answer.content) != 1:
        raise StepFailed(
            f"the 206 has Content-Range {content_range} and {len(answer.content)} bytes"
        )
    return f"bytes=0-0 gets 206, Content-Range {content_range}"
