"""Hostile input: traversal in every encoding, symlinks, header injection, active content,
decompression bombs, and random parameters that must never crash an endpoint."""

import email.message
import email.utils
import io
import os
import re
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Workfront, make_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.testclient import TestClient
from test_thumbnails import png, png_claiming

from docrelay.app import create_app

SECRET = b"TOP-SECRET-OUTSIDE-THE-ROOT"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"

# Ids as they appear in a query string (already percent-encoded where it matters).
TRAVERSAL_IDS = [
    "../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e/",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "..%5C..%5Csecret.txt",
    "..\\..\\secret.txt",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "inside.txt",
    "/inside.txt",
    "./inside.txt",
    "documents/inside.txt",
    "%252e%252e%252fsecret.txt",
    "%c0%ae%c0%ae/secret.txt",
    "%c0%ae%c0%ae%c0%afsecret.txt",
    "%e0%80%ae%e0%80%ae/",
    "%ff%fe",
    "%ed%a0%80",
    "%00",
    "inside.txt%00",
    "..%00/secret.txt",
    "//",
    "%2F%2F",
    "file:///etc/passwd",
]

# Names that must be refused with 400, as they appear in a query string.
REFUSED_NAMES = [
    "..%2Fx",
    "../x",
    "..%2F..%2Fescaped.txt",
    "a%2Fb",
    "a/b",
    "..%5Cx",
    "a%5Cb",
    "%2Fetc%2Fpasswd",
    "..",
    ".",
    "a%00b",
    "%00",
    "escaped.txt%00.pdf",
    "%c0%ae%c0%ae%2fx",
    "%c0%ae%c0%ae",
    "%ff.txt",
    "x%0d%0aSet-Cookie%3A%20a%3Db",
    ".~docrelay",
    ".~docrelay-0123abcd",
]


def error_shape(endpoint: str) -> tuple[str, str]:
    if endpoint == "upload":
        return "result", "fail"
    if endpoint in ("rename", "delete", "customAction", "customName"):
        return "status", "failure"
    return "status", "error"


def assert_error(endpoint: str, response: Any, status: int) -> None:
    assert response.status_code == status, (endpoint, response.status_code, response.text)
    body = response.json()
    key, value = error_shape(endpoint)
    assert set(body) == {key, "error"}, body
    assert body[key] == value
    assert isinstance(body["error"], str) and body["error"]


def tree(top: Path) -> set[str]:
    """Every path under ``top``, relative, the catalog's data folder left out."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [name for name in dirnames if Path(dirpath, name) != top / "data"]
        for name in dirnames + filenames:
            found.add(str(Path(dirpath, name).relative_to(top)))
    return found


def populate(wf: Workfront, tmp_path: Path) -> dict[str, Any]:
    """A secret file beside the root, a file and a folder inside it."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (wf.root / "inside.txt").write_bytes(b"inside")
    folder = wf.folder("/", "folder")
    files = {item["title"]: item for item in wf.files()}
    return {"file": files["inside.txt"], "folder": folder}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workfront, Path]]:
    """One app for the read-only checks below, which assert that nothing changes."""
    tmp_path = tmp_path_factory.mktemp("shared")
    app_settings = make_settings(tmp_path)
    with TestClient(create_app(app_settings), base_url="http://docrelay.test") as client:
        shared_wf = Workfront(client, Path(app_settings.root))
        populate(shared_wf, tmp_path)
        yield shared_wf, tmp_path


def raw_call(wf: Workfront, method: str, endpoint: str, query: str) -> Any:
    return wf.client.request(method, f"/api/{endpoint}?{query}", headers=wf.headers)


# --- traversal in ids ---------------------------------------------------------------------

ID_CALLS = [
    ("GET", "metadata", "id={}"),
    ("GET", "files", "parentId={}"),
    ("GET", "search", "query=secret&parentId={}"),
    ("GET", "download", "id={}"),
    ("HEAD", "download", "id={}"),
    ("GET", "thumbnail", "id={}"),
    ("POST", "uploadInit", "parentId={}&filename=new.txt"),
    ("POST", "createFolder", "parentId={}&name=new"),
    ("PUT", "upload", "id={}"),
    ("PUT", "rename", "id={}&name=renamed.txt"),
    ("PUT", "delete", "id={}"),
    ("PUT", "delete", "documentId={}"),
    ("PUT", "delete", "folderId={}"),
    ("GET", "customAction", "name=archive&id={}"),
    ("GET", "customAction", "name=archive&documentId={}"),
]


@pytest.mark.parametrize("raw_id", TRAVERSAL_IDS)
def test_ids_in_any_encoding_are_unknown_on_every_endpoint(
    shared: tuple[Workfront, Path], raw_id: str
) -> None:
    wf, tmp_path = shared
    before = tree(tmp_path)
    for method, endpoint, template in ID_CALLS:
        response = wf.client.request(
            method,
            f"/api/{endpoint}?{template.format(raw_id)}",
            headers=wf.headers,
            content=b"overwritten" if endpoint == "upload" else None,
        )
        assert SECRET not in response.content
        assert b"inside" not in response.content or endpoint == "search"
        if method == "HEAD":
            assert response.status_code == 404, (endpoint, raw_id, response.status_code)
            continue
        assert_error(endpoint, response, 404)
    assert tree(tmp_path) == before
    assert (tmp_path / "secret.txt").read_bytes() == SECRET
    assert (wf.root / "inside.txt").read_bytes() == b"inside"


@pytest.mark.parametrize("raw_id", TRAVERSAL_IDS)
def test_browser_links_with_forged_ids_are_not_found(
    shared: tuple[Workfront, Path], raw_id: str
) -> None:
    wf, _tmp_path = shared
    (inside,) = [item for item in wf.files() if item["kind"] == "file"]
    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(inside["viewLink"]).query)
    for purpose in ("view", "download", "thumbnail"):
        response = wf.client.get(f"/{purpose}/{raw_id}?sig={signature['sig'][0]}")
        assert response.status_code == 404, (purpose, raw_id, response.status_code)
        assert SECRET not in response.content


def test_an_existing_files_path_is_not_an_id(wf: Workfront, tmp_path: Path) -> None:
    populate(wf, tmp_path)
    absolute = str(wf.root / "inside.txt")
    for candidate in (absolute, urllib.parse.quote(absolute, safe=""), "folder", "/folder"):
        assert_error("metadata", raw_call(wf, "GET", "metadata", f"id={candidate}"), 404)
        assert_error("download", raw_call(wf, "GET", "download", f"id={candidate}"), 404)


# --- traversal in names -------------------------------------------------------------------

NAME_CALLS = [
    ("POST", "uploadInit", "parentId={parent}&filename={name}"),
    ("POST", "createFolder", "parentId={parent}&name={name}"),
    ("PUT", "rename", "id={file}&name={name}"),
    ("PUT", "rename", "id={parent}&name={name}"),
]


@pytest.mark.parametrize("raw_name", REFUSED_NAMES)
def test_names_that_leave_their_folder_are_refused(
    wf: Workfront, tmp_path: Path, raw_name: str
) -> None:
    made = populate(wf, tmp_path)
    file_id, folder_id = made["file"]["id"], made["folder"]["id"]
    inner = wf.upload(folder_id, "inner.txt", b"inner")
    before = tree(tmp_path)
    for method, endpoint, template in NAME_CALLS:
        query = template.format(parent=folder_id, file=inner["id"], name=raw_name)
        assert_error(endpoint, raw_call(wf, method, endpoint, query), 400)
    # the same through a form body, which is decoded by the same rules
    response = wf.call(
        "POST",
        "uploadInit",
        content=f"parentId={folder_id}&filename={raw_name}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error("uploadInit", response, 400)
    assert tree(tmp_path) == before
    assert wf.metadata(file_id)["title"] == "inside.txt"
    assert wf.metadata(inner["id"])["title"] == "inner.txt"
    assert [item["title"] for item in wf.files(folder_id)] == ["inner.txt"]


def test_a_double_encoded_name_is_the_literal_text(wf: Workfront, tmp_path: Path) -> None:
    populate(wf, tmp_path)
    response = raw_call(wf, "POST", "uploadInit", "parentId=/&filename=%252e%252e%252fx.txt")
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "%2e%2e%2fx.txt"
    put = wf.call("PUT", "upload", params={"id": response.json()["id"]}, content=b"literal")
    assert put.status_code == 200
    assert (wf.root / "%2e%2e%2fx.txt").read_bytes() == b"literal"
    inside = {str(Path("documents") / name) for name in ("inside.txt", "folder", "%2e%2e%2fx.txt")}
    assert tree(tmp_path) == {"documents", "secret.txt", *inside}


def test_form_bodies_are_utf8_bytes_like_the_query_string(wf: Workfront) -> None:
    """SPEC §2: %XX is a byte and the bytes are UTF-8, in a body as in the query string."""
    name = "café ünïcode"
    raw = name.encode()
    for body in (b"parentId=/&name=" + raw, b"parentId=/&name=" + urllib.parse.quote(raw).encode()):
        response = wf.call(
            "POST",
            "createFolder",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["title"].startswith(name)
    assert sorted(os.listdir(wf.root)) == sorted([name, f"{name} (1)"])


# --- symlinks -----------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "leaked-secret.txt").write_bytes(SECRET)
    (tmp_path / "outside-secret.txt").write_bytes(SECRET)
    return folder


def crawl(wf: Workfront) -> int:
    return int(wf.client.app.state.crawler.crawl())  # type: ignore[attr-defined]


def bounded_crawl(wf: Workfront, seconds: float) -> int:
    """A crawl that fails the test, rather than running on, if it takes longer than that."""
    crawler = wf.client.app.state.crawler  # type: ignore[attr-defined]
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(crawler.crawl()), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        crawler.stop_event.set()
        worker.join(30)
        pytest.fail(f"the crawl did not end within {seconds}s")
    return result[0]


def all_items(wf: Workfront, folder_id: str = "/") -> Iterator[dict[str, Any]]:
    for item in wf.files(folder_id):
        yield item
        if item["kind"] == "folder":
            yield from all_items(wf, item["id"])


def test_symlinks_out_of_the_root_are_invisible(
    wf: Workfront, tmp_path: Path, outside: Path
) -> None:
    (wf.root / "docs").mkdir()
    os.symlink(tmp_path / "outside-secret.txt", wf.root / "link-to-file.txt")
    os.symlink(outside, wf.root / "link-to-folder")
    os.symlink("../../outside-secret.txt", wf.root / "docs" / "relative-link.txt")
    os.symlink(outside, wf.root / "docs" / "nested-link")
    os.symlink("/etc/passwd", wf.root / "passwd")
    crawl(wf)
    titles = {item["title"] for item in all_items(wf)}
    assert titles == {"docs"}
    for query in ("link", "secret", "leaked", "passwd", "relative"):
        assert wf.search(query) == [], query
    for item in all_items(wf):
        if item["kind"] == "file":
            assert SECRET not in wf.get("download", params={"id": item["id"]}).content


def test_symlinks_within_the_root_are_listed(wf: Workfront) -> None:
    (wf.root / "docs").mkdir()
    (wf.root / "docs" / "real.txt").write_bytes(b"real content")
    os.symlink("docs/real.txt", wf.root / "alias.txt")
    os.symlink(wf.root / "docs", wf.root / "alias-folder")
    listed = {item["title"]: item for item in wf.files()}
    assert set(listed) == {"alias-folder", "docs", "alias.txt"}
    assert listed["alias-folder"]["kind"] == "folder"
    assert listed["alias.txt"]["kind"] == "file"
    download = wf.get("download", params={"id": listed["alias.txt"]["id"]})
    assert download.status_code == 200
    assert download.content == b"real content"
    assert [item["title"] for item in wf.files(listed["alias-folder"]["id"])] == ["real.txt"]
    crawl(wf)
    assert {item["title"] for item in wf.search("alias")} == {"alias-folder", "alias.txt"}


def test_a_symlink_to_an_enclosing_folder_is_not_a_loop(wf: Workfront) -> None:
    (wf.root / "a" / "b").mkdir(parents=True)
    (wf.root / "a" / "b" / "unique-name.txt").write_bytes(b"x")
    os.symlink(wf.root, wf.root / "a" / "b" / "to-root")
    os.symlink("..", wf.root / "a" / "b" / "to-parent")
    os.symlink(".", wf.root / "a" / "to-self")
    os.symlink(wf.root / "a", wf.root / "elsewhere")  # not enclosing: a plain alias of a
    visited = bounded_crawl(wf, seconds=5)
    # root, a, a/b, elsewhere, elsewhere/b: nothing below a link to an enclosing folder
    assert visited == 5
    found = wf.search("unique-name")
    assert len(found) == 2  # a/b/unique-name.txt and elsewhere/b/unique-name.txt
    a_id = next(item["id"] for item in wf.files() if item["title"] == "a")
    b_id = next(item["id"] for item in wf.files(a_id) if item["title"] == "b")
    assert [item["title"] for item in wf.files(a_id)] == ["b"]
    assert [item["title"] for item in wf.files(b_id)] == ["unique-name.txt"]


def test_symlinks_into_docrelays_own_area_are_invisible(wf: Workfront) -> None:
    deleted = wf.upload("/", "deleted-secret.txt", SECRET)
    assert wf.call("PUT", "delete", params={"id": deleted["id"]}).status_code == 200
    (internal,) = [path for path in wf.root.iterdir() if path.name.startswith(".~docrelay")]
    (trashed,) = [path for path in internal.rglob("*") if path.is_file()]
    os.symlink(internal, wf.root / "peek")
    os.symlink(trashed, wf.root / "peek-file.txt")
    os.symlink(internal.relative_to(wf.root) / "trash", wf.root / "peek-trash")
    crawl(wf)
    assert wf.files() == []
    assert wf.search("peek") == [] and wf.search("deleted-secret") == []
    assert_error("metadata", wf.get("metadata", params={"id": deleted["id"]}), 404)


def test_a_folder_replaced_by_a_symlink_out_of_the_root(
    wf: Workfront, tmp_path: Path, outside: Path
) -> None:
    folder = wf.folder("/", "reports")
    inner = wf.upload(folder["id"], "leaked-secret.txt", b"harmless")
    crawl(wf)
    assert [item["id"] for item in wf.search("leaked-secret")] == [inner["id"]]
    (wf.root / "reports" / "leaked-secret.txt").unlink()
    (wf.root / "reports").rmdir()
    os.symlink(outside, wf.root / "reports")
    for endpoint, params in (
        ("metadata", {"id": folder["id"]}),
        ("files", {"parentId": folder["id"]}),
        ("metadata", {"id": inner["id"]}),
        ("download", {"id": inner["id"]}),
        ("thumbnail", {"id": inner["id"]}),
        ("uploadInit", {"parentId": folder["id"], "filename": "planted.txt"}),
    ):
        method = "POST" if endpoint == "uploadInit" else "GET"
        response = wf.call(method, endpoint, params=params)
        assert SECRET not in response.content
        assert_error(endpoint, response, 404)
    assert wf.files() == []
    crawl(wf)
    assert wf.search("leaked-secret") == []
    assert sorted(os.listdir(outside)) == ["leaked-secret.txt"]


def test_a_file_replaced_by_a_symlink_out_of_the_root(wf: Workfront, tmp_path: Path) -> None:
    (tmp_path / "outside-secret.txt").write_bytes(SECRET)
    item = wf.upload("/", "doc.txt", b"harmless")
    (wf.root / "doc.txt").unlink()
    os.symlink(tmp_path / "outside-secret.txt", wf.root / "doc.txt")
    for endpoint in ("metadata", "download", "thumbnail"):
        response = wf.get(endpoint, params={"id": item["id"]})
        assert SECRET not in response.content
        assert_error(endpoint, response, 404)
    response = wf.client.get(item["downloadLink"])
    assert response.status_code == 404 and SECRET not in response.content
    assert wf.files() == []
    put = wf.call("PUT", "upload", params={"id": item["id"]}, content=b"overwrite")
    assert_error("upload", put, 404)
    assert (tmp_path / "outside-secret.txt").read_bytes() == SECRET


def test_names_held_by_hidden_links_are_never_written_through(
    wf: Workfront, tmp_path: Path, outside: Path
) -> None:
    os.symlink(tmp_path / "outside-secret.txt", wf.root / "report.txt")
    os.symlink(outside, wf.root / "archive")
    item = wf.upload("/", "report.txt", b"from the api")
    assert wf.metadata(item["id"])["title"] == "report (1).txt"
    assert (wf.root / "report (1).txt").read_bytes() == b"from the api"
    folder = wf.folder("/", "archive")
    assert folder["title"] == "archive (1)"
    planted = wf.upload(folder["id"], "leaked-secret.txt", b"planted")
    assert wf.metadata(planted["id"])["title"] == "leaked-secret.txt"
    other = wf.upload("/", "other.txt", b"other")
    for name in ("report.txt", "archive"):
        response = wf.call("PUT", "rename", params={"id": other["id"], "name": name})
        assert_error("rename", response, 409)
    assert (tmp_path / "outside-secret.txt").read_bytes() == SECRET
    assert sorted(os.listdir(outside)) == ["leaked-secret.txt"]
    assert (outside / "leaked-secret.txt").read_bytes() == SECRET
    assert os.path.islink(wf.root / "report.txt") and os.path.islink(wf.root / "archive")


# --- header injection through names -------------------------------------------------------

DISPOSITION = re.compile(r"^attachment; filename=\"([^\"\\]*)\"; filename\*=UTF-8''([^\s;]+)$")


def check_disposition(response: Any, name: str) -> None:
    values = response.headers.get_list("content-disposition")
    assert len(values) == 1, values
    value = values[0]
    assert value.isascii() and value.isprintable(), value
    match = DISPOSITION.match(value)
    assert match, value
    fallback, encoded = match.groups()
    assert fallback.isascii() and fallback
    assert re.fullmatch(r"[A-Za-z0-9%!#$&+.^_`|~-]+", encoded), encoded
    assert urllib.parse.unquote(encoded, errors="strict") == name
    parsed = email.message.Message()  # an independent parser of RFC 2231 / 5987 parameters
    parsed["Content-Disposition"] = value
    assert parsed.get_content_disposition() == "attachment"
    params = parsed.get_params(header="content-disposition") or []
    extended = [email.utils.collapse_rfc2231_value(v) for _k, v in params if isinstance(v, tuple)]
    assert extended == [name]
    assert "set-cookie" not in response.headers
    assert "x-injected" not in response.headers


HEADER_NAMES = [
    'quote"d.txt',
    "semi;colon.txt",
    'evil"; filename="evil.exe',
    "literal %22 and %5C and %00.txt",
    "Ünïcødé résumé.pdf",
    "日本語の資料.docx",
    "emoji 📄 report.txt",
    "%0d%0aSet-Cookie: a=b.txt",
    "x%0D%0AX-Injected: 1.txt",
    "percent%25 and = and , and '.txt",
    "tab-free (1) [a] {b}.txt",
]


@pytest.mark.parametrize("name", HEADER_NAMES)
def test_content_disposition_survives_any_name(wf: Workfront, name: str) -> None:
    name = unicodedata.normalize("NFC", name)
    item = wf.upload("/", name, b"content")
    assert wf.metadata(item["id"])["title"] == name
    for response in (
        wf.get("download", params={"id": item["id"]}),
        wf.client.get(item["downloadLink"]),
    ):
        assert response.status_code == 200
        check_disposition(response, name)
        assert response.content == b"content"


@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=y.txt", "a\nX-Injected: 1.txt", "\r\n"])
def test_line_breaks_in_names_are_refused(wf: Workfront, name: str) -> None:
    response = wf.call("POST", "uploadInit", params={"parentId": "/", "filename": name})
    assert_error("uploadInit", response, 400)
    assert os.listdir(wf.root) == []


@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=y.txt", "b\nX-Injected: 1.txt", 'c".txt'])
def test_names_made_behind_docrelays_back_cannot_inject_headers(wf: Workfront, name: str) -> None:
    (wf.root / name).write_bytes(b"from disk")
    (item,) = wf.files()
    assert item["title"] == name
    response = wf.get("download", params={"id": item["id"]})
    assert response.status_code == 200
    check_disposition(response, name)


def test_names_on_disk_that_are_not_utf8_are_served_safely(wf: Workfront) -> None:
    raw_root = bytes(wf.root)
    os.mkdir(os.path.join(raw_root, b"dir\xff"))
    with open(os.path.join(raw_root, b"dir\xff", b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"latin-1 named")
    (folder,) = wf.files()
    assert folder["title"] == "dir\ufffd"
    (item,) = wf.files(folder["id"])
    assert item["title"] == "caf\ufffd.txt"
    response = wf.get("download", params={"id": item["id"]})
    assert response.status_code == 200 and response.content == b"latin-1 named"
    check_disposition(response, "caf\ufffd.txt")
    assert wf.get("thumbnail", params={"id": item["id"]}).status_code == 200
    assert wf.client.get(folder["viewLink"]).status_code == 200
    renamed = wf.call("PUT", "rename", params={"id": item["id"], "name": "café.txt"})
    assert renamed.status_code == 200, renamed.text
    assert os.listdir(os.path.join(raw_root, b"dir\xff")) == ["café.txt".encode()]


# --- active content -----------------------------------------------------------------------

EVIL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="50" height="30">'
    b"<script>alert(document.cookie)</script><rect width='50' height='30'/></svg>"
)
EVIL_HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format in ("PNG", "JPEG")
        return image.size


def assert_served_as_attachment(response: Any, media_type: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0].strip() == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("evil.svg", EVIL_SVG, "image/svg+xml"),
        ("page.html", EVIL_HTML, "text/html"),
        ("page.htm", EVIL_HTML, "text/html"),
        ("picture.txt", png(50, 30), "text/plain"),
        ("script.png", EVIL_HTML, "image/png"),
        ("noextension", EVIL_HTML, "application/octet-stream"),
    ],
)
def test_content_is_typed_by_name_and_never_rendered_inline(
    wf: Workfront, name: str, content: bytes, media_type: str
) -> None:
    item = wf.upload("/", name, content)
    assert wf.metadata(item["id"])["mimeType"] == media_type
    for response in (
        wf.get("download", params={"id": item["id"]}),
        wf.client.get(item["downloadLink"]),
    ):
        assert_served_as_attachment(response, media_type)
        assert response.content == content


@pytest.mark.parametrize(
    ("name", "content"),
    [("evil.svg", EVIL_SVG), ("page.html", EVIL_HTML), ("picture.txt", png(50, 30))],
)
def test_thumbnails_of_active_or_mislabelled_content_are_icons(
    wf: Workfront, name: str, content: bytes
) -> None:
    item = wf.upload("/", name, content)
    response = wf.get("thumbnail", params={"id": item["id"]})
    assert response.status_code == 200
    assert response.headers["content-type"] in ("image/png", "image/jpeg")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content.startswith((PNG_SIGNATURE, JPEG_SIGNATURE))
    assert b"<script" not in response.content and b"<svg" not in response.content
    # an icon is drawn at the box's width; a preview of the 50x30 picture would be 50x30
    assert image_size(response.content)[0] == 200


@pytest.mark.parametrize("size", [None, "16", "1024"])
def test_a_decompression_bomb_gets_its_icon_quickly(wf: Workfront, size: str | None) -> None:
    item = wf.upload("/", "bomb.png", png_claiming(60000, 60000))
    params = {"id": item["id"]} if size is None else {"id": item["id"], "size": size}
    started = time.monotonic()
    response = wf.get("thumbnail", params=params)
    assert time.monotonic() - started < 3
    assert response.status_code == 200
    assert response.headers["content-type"] in ("image/png", "image/jpeg")
    assert image_size(response.content)[0] == int(size or 200)


# --- random input never crashes an endpoint -----------------------------------------------

FUZZ_CALLS = [
    ("GET", "metadata", ("id",)),
    ("GET", "files", ("parentId", "max", "offset")),
    ("GET", "search", ("query", "parentId", "max", "offset")),
    ("GET", "download", ("id",)),
    ("GET", "thumbnail", ("id", "size")),
    ("POST", "uploadInit", ("parentId", "filename", "documentId", "documentVersionId")),
    ("PUT", "upload", ("id",)),
    ("POST", "createFolder", ("parentId", "name")),
    ("PUT", "rename", ("id", "name")),
    ("PUT", "delete", ("id", "documentId", "folderId")),
    ("GET", "customAction", ("name", "id", "documentId", "documentVersionId")),
]
ALLOWED = {200, 400, 403, 404, 409}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workfront]:
    tmp_path = tmp_path_factory.mktemp("fuzz")
    app_settings = make_settings(tmp_path)
    with TestClient(create_app(app_settings), base_url="http://docrelay.test") as client:
        fuzz = Workfront(client, Path(app_settings.root))
        folder = fuzz.folder("/", "folder")
        fuzz.upload(folder["id"], "file.txt", b"file")
        yield fuzz


def ids_of(wf: Workfront) -> list[str]:
    return ["/", *(item["id"] for item in all_items(wf))]


values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="./\\%0123456789abcdefACEF+-~ \x00\r\n", max_size=20),
    st.binary(max_size=12).map(lambda raw: urllib.parse.quote_from_bytes(raw, safe="")),
    st.sampled_from(["", "/", "..", "-1", "0", "1", "1001", "2147483648", "1e3", " 7", "١"]),
)


def encode_query(params: dict[str, str]) -> str:
    """Values already percent-encoded stay so; the rest are encoded once."""
    parts = []
    for key, value in params.items():
        if re.fullmatch(r"(%[0-9A-F]{2})+", value):
            parts.append(f"{key}={value}")
        else:
            parts.append(f"{key}={urllib.parse.quote(value, safe='')}")
    return "&".join(parts)


def check_answer(endpoint: str, response: Any) -> None:
    assert response.status_code in ALLOWED, (endpoint, response.status_code, response.text)
    if response.status_code == 200:
        if endpoint not in ("download", "thumbnail"):
            response.json()
        return
    assert_error(endpoint, response, response.status_code)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_parameters_never_crash(fuzzed: Workfront, data: st.DataObject) -> None:
    method, endpoint, names = data.draw(st.sampled_from(FUZZ_CALLS))
    known = ids_of(fuzzed)
    params: dict[str, str] = {}
    for name in names:
        choice = data.draw(st.sampled_from(["absent", "random", "known"]))
        if choice == "random":
            params[name] = data.draw(values)
        elif choice == "known" and name in ("id", "parentId", "folderId"):
            params[name] = known[data.draw(st.integers(0, 99)) % len(known)]  # state varies
    as_form = method != "GET" and endpoint != "upload" and data.draw(st.booleans())
    query = encode_query(params)
    if as_form:
        response = fuzzed.client.request(
            method,
            f"/api/{endpoint}",
            headers={**fuzzed.headers, "content-type": "application/x-www-form-urlencoded"},
            content=query.encode(),
        )
    else:
        response = fuzzed.client.request(
            method,
            f"/api/{endpoint}?{query}",
            headers=fuzzed.headers,
            content=b"fuzzed bytes" if endpoint == "upload" else None,
        )
    check_answer(endpoint, response)
    outside = {path.name for path in fuzzed.root.parent.iterdir()}
    assert outside <= {"documents", "data"}, outside
