"""The browser pages behind viewLink and downloadLink: signed, escaped, locked down."""

import io
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from docrelay.links import DOWNLOAD, THUMBNAIL, VIEW
from docrelay.services import Services
from docrelay.web.display import human_size

CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HOSTILE = "<img src=x onerror=\"alert('x')\"><script>alert(1)<b>.html"
CONTENT = bytes(range(256)) * 40


class Links(HTMLParser):
    """The ``href`` of every link and the ``src`` of every image of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "img" and values.get("src"):
            self.images.append(values["src"] or "")
        assert tag not in ("script", "iframe", "object", "embed"), tag


def services(wf: Any) -> Services:
    return wf.client.app.state.services  # type: ignore[no-any-return]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def assert_page_headers(response: Any) -> None:
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "private, no-store"


# --- downloadLink ------------------------------------------------------------------------


def test_download_link_streams_the_exact_bytes_without_a_key(wf: Any) -> None:
    item = wf.upload("/", "report.bin", CONTENT)
    response = wf.client.get(item["downloadLink"])
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_download_link_answers_a_range_and_head(wf: Any) -> None:
    item = wf.upload("/", "report.bin", CONTENT)
    partial = wf.client.get(item["downloadLink"], headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206
    assert partial.content == CONTENT[10:20]
    assert partial.headers["content-range"] == f"bytes 10-19/{len(CONTENT)}"
    head = wf.client.head(item["downloadLink"])
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(CONTENT))
    assert head.content == b""
    beyond = wf.client.get(item["downloadLink"], headers={"Range": "bytes=999999-1000000"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(CONTENT)}"


def test_a_signature_opens_only_its_own_item(wf: Any) -> None:
    mine = wf.upload("/", "mine.txt", b"mine")
    secret = wf.upload("/", "secret.txt", b"top secret bytes")
    swapped = mine["downloadLink"].replace(mine["id"], secret["id"])
    assert swapped != mine["downloadLink"]
    response = wf.client.get(swapped)
    assert response.status_code == 404
    assert b"top secret" not in response.content
    assert "secret.txt" not in response.text
    viewed = wf.client.get(mine["viewLink"].replace(mine["id"], secret["id"]))
    assert viewed.status_code == 404
    assert "secret.txt" not in viewed.text


def test_a_signature_opens_only_its_own_purpose(wf: Any) -> None:
    item = wf.upload("/", "a.txt", b"bytes")
    view_sig = item["viewLink"].split("?sig=")[1]
    download_sig = item["downloadLink"].split("?sig=")[1]
    as_download = item["downloadLink"].replace(download_sig, view_sig)
    assert wf.client.get(as_download).status_code == 404
    as_view = item["viewLink"].replace(view_sig, download_sig)
    assert wf.client.get(as_view).status_code == 404


@pytest.mark.parametrize("query", ["?sig=AAAAAAAAAAAAAAAAAAAAAAAA", "?sig=", "", "?sig=%FF%FE"])
@pytest.mark.parametrize("purpose", [DOWNLOAD, VIEW, THUMBNAIL])
def test_a_tampered_or_missing_signature_is_404(wf: Any, purpose: str, query: str) -> None:
    item = wf.upload("/", "a.txt", b"bytes")
    response = wf.client.get(f"/{purpose}/{item['id']}{query}")
    assert response.status_code == 404
    assert_page_headers(response)
    assert "a.txt" not in response.text


def test_an_unknown_id_looks_like_a_bad_signature(wf: Any) -> None:
    item = wf.upload("/", "a.txt", b"bytes")
    bad_sig = wf.client.get(f"/view/{item['id']}?sig=nope")
    unknown = wf.client.get(services(wf).links.view("no-such-id"))
    assert unknown.status_code == bad_sig.status_code == 404
    assert unknown.text == bad_sig.text


def test_a_removed_file_is_404(wf: Any) -> None:
    item = wf.upload("/", "gone.txt", b"bytes")
    (wf.root / "gone.txt").unlink()
    assert wf.client.get(item["downloadLink"]).status_code == 404
    assert wf.client.get(item["viewLink"]).status_code == 404


def test_a_folder_cannot_be_downloaded(wf: Any) -> None:
    folder = wf.folder("/", "Reports")
    response = wf.client.get(services(wf).links.download(folder["id"]))
    assert response.status_code == 400
    assert_page_headers(response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_get_405(wf: Any, method: str) -> None:
    item = wf.upload("/", "a.txt", b"bytes")
    response = wf.client.request(method, item["downloadLink"])
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert_page_headers(response)


def test_links_are_the_same_on_every_call(wf: Any) -> None:
    item = wf.upload("/", "a.txt", b"bytes")
    first, second = wf.metadata(item["id"]), wf.metadata(item["id"])
    assert first["viewLink"] == second["viewLink"] == item["viewLink"]
    assert first["downloadLink"] == second["downloadLink"] == item["downloadLink"]
    listed = wf.files("/")[0]
    assert (listed["viewLink"], listed["downloadLink"]) == (item["viewLink"], item["downloadLink"])


# --- viewLink ----------------------------------------------------------------------------


def test_a_file_page_shows_name_size_and_a_preview(wf: Any) -> None:
    item = wf.upload("/", "chart.png", png() + b"\0" * 1_200_000)
    response = wf.client.get(item["viewLink"])
    assert response.status_code == 200
    assert_page_headers(response)
    text = response.text
    assert "chart.png" in text
    assert human_size(item["size"]) in text and "1.2 MB" in text
    assert f"{len(png()) + 1_200_000:,} bytes" in text
    assert "image/png" in text
    page = Links(text)
    assert item["downloadLink"] in page.hrefs
    [preview] = page.images
    assert preview.startswith(services(wf).links.url(THUMBNAIL, item["id"]))
    image = wf.client.get(preview)
    assert image.status_code == 200
    assert image.headers["content-type"] in ("image/png", "image/jpeg")
    assert Image.open(io.BytesIO(image.content)).size[0] <= 800


def test_a_file_page_never_inlines_the_file(wf: Any) -> None:
    item = wf.upload("/", "page.svg", b"<svg onload='alert(1)'><text>INLINE-ME</text></svg>")
    response = wf.client.get(item["viewLink"])
    assert "INLINE-ME" not in response.text
    download = wf.client.get(item["downloadLink"])
    assert download.headers["content-disposition"].startswith("attachment;")


def test_names_are_escaped(wf: Any) -> None:
    folder = wf.folder("/", "Q\"uotes' & <b>bold<i>")
    item = wf.upload(folder["id"], HOSTILE, b"<script>alert(2)</script>")
    for link in (item["viewLink"], folder["viewLink"]):
        text = wf.client.get(link).text
        assert "<script>" not in text and "<img src=x" not in text and "<b>" not in text
        assert "<i>" not in text
        Links(text)  # fails on a script, iframe, object or embed element
    file_page = wf.client.get(item["viewLink"]).text
    assert "&lt;script&gt;alert(1)&lt;b&gt;.html" in file_page
    assert "alert(2)" not in file_page
    assert "Q&#34;uotes&#39; &amp; &lt;b&gt;bold&lt;i&gt;" in wf.client.get(folder["viewLink"]).text


def test_a_folder_page_lists_children_with_working_links(wf: Any) -> None:
    folder = wf.folder("/", "Reports")
    wf.upload(folder["id"], "b.txt", b"bee")
    wf.upload(folder["id"], "file-10.txt", b"ten")
    wf.upload(folder["id"], "file-2.txt", b"two")
    inner = wf.folder(folder["id"], "zz inner")
    response = wf.client.get(folder["viewLink"])
    assert response.status_code == 200
    assert_page_headers(response)
    children = wf.files(folder["id"])
    assert Links(response.text).hrefs == [child["viewLink"] for child in children]
    assert [child["title"] for child in children][:2] == ["zz inner", "b.txt"]
    followed = wf.client.get(children[1]["viewLink"])
    assert followed.status_code == 200 and "b.txt" in followed.text
    assert children[1]["downloadLink"] in Links(followed.text).hrefs
    inside = wf.client.get(inner["viewLink"])
    assert inside.status_code == 200 and "This folder is empty." in inside.text


def test_a_folder_page_links_no_parent(wf: Any) -> None:
    folder = wf.folder("/", "Reports")
    wf.upload(folder["id"], "b.txt", b"bee")
    hrefs = Links(wf.client.get(folder["viewLink"]).text).hrefs
    assert wf.metadata("/")["viewLink"] not in hrefs
    assert len(hrefs) == 1


def test_the_root_page_shows_the_display_name(wf: Any) -> None:
    wf.upload("/", "top.txt", b"top")
    root = wf.metadata("/")
    assert f"/view/{quote('/', safe='')}?sig=" in root["viewLink"]
    response = wf.client.get(root["viewLink"])
    assert response.status_code == 200
    assert "<h1>Documents</h1>" in response.text
    assert wf.metadata(wf.files("/")[0]["id"])["viewLink"] in Links(response.text).hrefs


def test_a_pending_file_has_no_content_yet_and_no_download(wf: Any) -> None:
    params = {"parentId": "/", "filename": "coming.pdf"}
    reserved = wf.ok("POST", "uploadInit", params=params)
    response = wf.client.get(reserved["viewLink"])
    assert response.status_code == 200
    assert "coming.pdf" in response.text
    assert "no content yet" in response.text.lower()
    assert "Download" not in response.text and Links(response.text).hrefs == []
    assert wf.client.get(reserved["downloadLink"]).status_code == 404


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (1_234_567, "1.2 MB"),
        (999_999, "1.0 MB"),
        (123_456_789, "123 MB"),
        (5 * 10**12, "5.0 TB"),
    ],
)
def test_human_sizes(size: int, shown: str) -> None:
    assert human_size(size) == shown


def test_an_unexpected_failure_is_a_logged_500_page(
    wf: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    item = wf.upload("/", "a.txt", b"bytes")

    def broken(item_id: str) -> Any:
        raise RuntimeError("catalog exploded")

    monkeypatch.setattr(services(wf).catalog, "fresh", broken)
    with caplog.at_level("ERROR", logger="docrelay.web"):
        response = wf.client.get(item["viewLink"])
    assert response.status_code == 500
    assert_page_headers(response)
    assert "exploded" not in response.text
    assert any(record.name == "docrelay.web" and record.exc_info for record in caplog.records)


def test_a_store_failure_is_an_error_page(wf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    item = wf.upload("/", "a.txt", b"bytes")

    def unreachable(path: Any) -> Any:
        raise TimeoutError("share timed out")

    monkeypatch.setattr(services(wf).store, "open_read", unreachable)
    response = wf.client.get(item["downloadLink"])
    assert response.status_code == 503
    assert_page_headers(response)


def test_a_thumbnail_size_that_is_not_a_number_is_400(wf: Any) -> None:
    item = wf.upload("/", "a.txt", b"bytes")
    response = wf.client.get(f"{services(wf).links.url(THUMBNAIL, item['id'])}&size=wide")
    assert response.status_code == 400
    assert_page_headers(response)
