"""docrelay.thumbnails: preview sizes, image modes, PDFs, icons, failures, cache and slots."""

from __future__ import annotations

import io
import pathlib
import struct
import threading
import time
import warnings
import zlib
from collections.abc import Callable
from typing import BinaryIO

import pypdfium2 as pdfium
import pytest
from PIL import ExifTags, Image

from docrelay.thumbnails import Thumbnail, Thumbnailer, box_width

RED = (220, 20, 20)
BLUE = (20, 40, 220)


# --- sample files, made here -------------------------------------------------------------


def encoded(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def png(width: int, height: int, colour: tuple[int, ...] = RED, mode: str = "RGB") -> bytes:
    return encoded(Image.new(mode, (width, height), colour), "PNG")


def png_claiming(width: int, height: int) -> bytes:
    """A valid 8x8 PNG whose IHDR chunk (and its CRC) is patched to claim another size."""
    data = bytearray(png(8, 8))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def handmade_pdf(width: int, height: int, rotate: int = 0) -> bytes:
    """A one-page PDF filled blue, with a correct cross-reference table."""
    content = b"0 0 1 rg 0 0 %d %d re f" % (width, height)
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Rotate %d /Contents 4 0 R >>"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page % (width, height, rotate),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    out.seek(0, io.SEEK_END)
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref_at = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(bodies) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return out.getvalue()


def pdfium_pdf(width: float, height: float) -> bytes:
    document = pdfium.PdfDocument.new()
    page = document.new_page(width, height)
    buffer = io.BytesIO()
    document.save(buffer)
    page.close()
    document.close()
    return buffer.getvalue()


# --- helpers -----------------------------------------------------------------------------


def opener(data: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(data)


def preview(
    thumbnailer: Thumbnailer,
    data: bytes,
    name: str,
    mime_type: str | None,
    width: int = 200,
    key: str = "item-1",
) -> Thumbnail:
    return thumbnailer.thumbnail(
        key=key, name=name, mime_type=mime_type, kind="file", width=width, open_source=opener(data)
    )


def decoded(thumbnail: Thumbnail) -> Image.Image:
    with Image.open(io.BytesIO(thumbnail.data)) as image:
        image.load()
        assert image.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[thumbnail.content_type]
        return image.copy()


def size_of(thumbnail: Thumbnail) -> tuple[int, int]:
    return decoded(thumbnail).size


def colour_at(thumbnail: Thumbnail, xy: tuple[int, int]) -> tuple[int, int, int]:
    red, green, blue = decoded(thumbnail).convert("RGB").getpixel(xy)  # type: ignore[misc]
    return red, green, blue


def is_reddish(colour: tuple[int, int, int]) -> bool:
    return colour[0] > 180 and colour[1] < 80 and colour[2] < 80


def is_bluish(colour: tuple[int, int, int]) -> bool:
    return colour[2] > 180 and colour[0] < 80 and colour[1] < 100


def expected_fit(size: tuple[int, int], width: int) -> tuple[int, int]:
    """Scale by min(1, width / w, 4 * width / h), rounded, computed in floating point."""
    scale = min(1.0, width / size[0], 4 * width / size[1])
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


@pytest.fixture
def thumbnailer() -> Thumbnailer:
    return Thumbnailer(None)


# --- the size parameter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "width"),
    [
        (None, 200),
        ("", 200),
        ("64", 64),
        ("16", 16),
        ("1024", 1024),
        ("1", 16),
        ("0", 16),
        ("-5", 16),
        ("+300", 300),
        ("100000", 1024),
        ("9" * 5000, 1024),
        ("0000064", 64),
        (" 64 ", 64),
    ],
)
def test_box_width_defaults_and_clamps(raw: str | None, width: int) -> None:
    assert box_width(raw) == width


@pytest.mark.parametrize("raw", ["wide", "1.5", "1e3", "0x10", " ", "1_000", "--1", "١٢", "12px"])
def test_box_width_rejects_what_is_not_an_integer(raw: str) -> None:
    with pytest.raises(ValueError):
        box_width(raw)


# --- images ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "size", "raw_width", "expected"),
    [
        ("PNG", (800, 400), "200", (200, 100)),
        ("PNG", (800, 400), "64", (64, 32)),
        ("JPEG", (1000, 1000), None, (200, 200)),
        ("PNG", (3000, 1500), "100000", (1024, 512)),
        ("PNG", (3000, 1500), "1", (16, 8)),
        ("PNG", (50, 20), "200", (50, 20)),
        ("PNG", (100, 2000), "50", (10, 200)),
    ],
)
def test_images_fit_the_box_and_are_never_enlarged(
    thumbnailer: Thumbnailer,
    source: str,
    size: tuple[int, int],
    raw_width: str | None,
    expected: tuple[int, int],
) -> None:
    data = encoded(Image.new("RGB", size, RED), source)
    name, mime_type = ("a.png", "image/png") if source == "PNG" else ("a.jpg", "image/jpeg")
    result = preview(thumbnailer, data, name, mime_type, box_width(raw_width))
    assert size_of(result) == expected


@pytest.mark.parametrize(
    ("size", "width"), [((1234, 567), 200), ((333, 1000), 77), ((997, 13), 64)]
)
def test_odd_sizes_round_like_the_float_formula(
    thumbnailer: Thumbnailer, size: tuple[int, int], width: int
) -> None:
    result = preview(thumbnailer, png(*size), "odd.png", "image/png", width)
    assert size_of(result) == expected_fit(size, width)


def test_type_is_guessed_from_the_name_without_a_mime_type(thumbnailer: Thumbnailer) -> None:
    result = preview(thumbnailer, png(800, 400), "wide.png", None, 200)
    assert size_of(result) == (200, 100)


def test_exif_orientation_6_swaps_width_and_height(thumbnailer: Thumbnailer) -> None:
    image = Image.new("RGB", (400, 200), BLUE)
    image.paste(RED, (0, 0, 200, 200))  # left half red
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown turned 90 degrees clockwise
    data = encoded(image, "JPEG", exif=exif.tobytes(), quality=95)
    result = preview(thumbnailer, data, "turned.jpg", "image/jpeg", 100)
    assert size_of(result) == (100, 200)
    assert is_reddish(colour_at(result, (50, 30)))  # the left edge is now on top
    assert is_bluish(colour_at(result, (50, 170)))


def cmyk_jpeg() -> bytes:
    return encoded(Image.new("CMYK", (600, 300), (0, 255, 255, 0)), "JPEG")


def gradient_16_bit_png() -> bytes:
    image = Image.new("I;16", (300, 600), 0)
    image.paste(65535, (0, 0, 300, 300))  # top half white
    return encoded(image, "PNG")


def palette_with_transparency_png() -> bytes:
    image = Image.new("P", (400, 100), 0)
    image.putpalette([255, 255, 255, *RED] + [0] * (256 - 2) * 3)
    image.paste(1, (200, 0, 400, 100))
    return encoded(image, "PNG", transparency=0)


def rgba_png() -> bytes:
    image = Image.new("RGBA", (400, 100), (0, 0, 0, 0))
    image.paste((*RED, 128), (200, 0, 400, 100))
    return encoded(image, "PNG")


def la_png() -> bytes:
    return encoded(Image.new("LA", (400, 100), (90, 100)), "PNG")


def animated(image_format: str) -> bytes:
    frames = [Image.new("RGB", (400, 200), colour) for colour in (RED, (20, 200, 20))]
    return encoded(
        frames[0], image_format, save_all=True, append_images=frames[1:], duration=100, loop=0
    )


def tiff(mode: str, value: float) -> bytes:
    return encoded(Image.new(mode, (500, 250), value), "TIFF")


MODES: dict[str, tuple[Callable[[], bytes], str, tuple[int, int], str]] = {
    # name: (sample, mime type, natural size, expected content type)
    "cmyk jpeg": (cmyk_jpeg, "image/jpeg", (600, 300), "image/jpeg"),
    "16-bit png": (gradient_16_bit_png, "image/png", (300, 600), "image/jpeg"),
    "palette with transparency": (
        palette_with_transparency_png,
        "image/png",
        (400, 100),
        "image/png",
    ),
    "rgba png": (rgba_png, "image/png", (400, 100), "image/png"),
    "la png": (la_png, "image/png", (400, 100), "image/png"),
    "bilevel png": (lambda: png(400, 200, (1,), mode="1"), "image/png", (400, 200), "image/jpeg"),
    "animated gif": (lambda: animated("GIF"), "image/gif", (400, 200), "image/jpeg"),
    "animated webp": (lambda: animated("WEBP"), "image/webp", (400, 200), "image/jpeg"),
    "webp": (
        lambda: encoded(Image.new("RGB", (400, 400), RED), "WEBP"),
        "image/webp",
        (400, 400),
        "image/jpeg",
    ),
    "tiff": (lambda: tiff("RGB", 0), "image/tiff", (500, 250), "image/jpeg"),
    "32-bit tiff": (lambda: tiff("I", 70000), "image/tiff", (500, 250), "image/jpeg"),
    "float tiff": (lambda: tiff("F", 0.5), "image/tiff", (500, 250), "image/jpeg"),
    "bmp": (
        lambda: encoded(Image.new("RGB", (300, 300), RED), "BMP"),
        "image/bmp",
        (300, 300),
        "image/jpeg",
    ),
}


@pytest.mark.parametrize("sample_name", list(MODES))
def test_image_modes_render_to_the_box(thumbnailer: Thumbnailer, sample_name: str) -> None:
    sample, mime_type, natural, content_type = MODES[sample_name]
    for width in (200, 64):
        result = preview(thumbnailer, sample(), "sample", mime_type, width)
        assert result.content_type == content_type
        assert size_of(result) == expected_fit(natural, width)


def test_cmyk_colours_are_converted(thumbnailer: Thumbnailer) -> None:
    result = preview(thumbnailer, cmyk_jpeg(), "print.jpg", "image/jpeg", 100)
    assert is_reddish(colour_at(result, (50, 25)))


def test_16_bit_values_are_scaled_to_8_bit(thumbnailer: Thumbnailer) -> None:
    image = decoded(preview(thumbnailer, gradient_16_bit_png(), "deep.png", "image/png", 100))
    assert image.mode == "L"
    assert image.getpixel((50, 20)) == pytest.approx(255, abs=3)
    assert image.getpixel((50, 180)) == pytest.approx(0, abs=3)


def test_transparency_is_kept(thumbnailer: Thumbnailer) -> None:
    for sample in (palette_with_transparency_png, rgba_png):
        image = decoded(preview(thumbnailer, sample(), "clear.png", "image/png", 200))
        assert image.mode == "RGBA"
        assert image.getpixel((10, 25))[3] == 0  # type: ignore[index]
        assert image.getpixel((190, 25))[3] > 0  # type: ignore[index]


def test_an_opaque_alpha_channel_gives_a_jpeg(thumbnailer: Thumbnailer) -> None:
    data = png(400, 200, (*RED, 255), mode="RGBA")
    assert preview(thumbnailer, data, "flat.png", "image/png").content_type == "image/jpeg"


def test_animation_shows_its_first_frame(thumbnailer: Thumbnailer) -> None:
    for image_format, mime_type in (("GIF", "image/gif"), ("WEBP", "image/webp")):
        result = preview(thumbnailer, animated(image_format), "anim", mime_type, 100)
        assert is_reddish(colour_at(result, (50, 25)))


# --- PDFs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "width", "expected"),
    [
        ((400, 200), 200, (200, 100)),
        ((400, 200), 64, (64, 32)),
        ((100, 50), 200, (100, 50)),
        ((612, 792), 200, (200, round(792 * 200 / 612))),
        ((200, 3000), 100, (round(200 * 400 / 3000), 400)),
    ],
)
def test_pdf_first_page_at_its_size_in_points(
    thumbnailer: Thumbnailer, points: tuple[int, int], width: int, expected: tuple[int, int]
) -> None:
    result = preview(thumbnailer, handmade_pdf(*points), "page.pdf", "application/pdf", width)
    assert size_of(result) == expected
    assert is_bluish(colour_at(result, (expected[0] // 2, expected[1] // 2)))


def test_pdf_page_rotation_is_honoured(thumbnailer: Thumbnailer) -> None:
    data = handmade_pdf(400, 200, rotate=90)
    assert size_of(preview(thumbnailer, data, "turned.pdf", "application/pdf", 100)) == (100, 200)


def test_pdf_written_by_pdfium(thumbnailer: Thumbnailer) -> None:
    result = preview(thumbnailer, pdfium_pdf(400, 200), "blank.pdf", "application/pdf", 200)
    assert size_of(result) == (200, 100)
    assert colour_at(result, (100, 50)) == pytest.approx((255, 255, 255), abs=3)


# --- icons -------------------------------------------------------------------------------

ITEMS = [
    ("folder", "Projects", None),
    ("file", "notes.txt", "text/plain"),
    ("file", "report.docx", None),
    ("file", "sums.xlsx", None),
    ("file", "deck.pptx", None),
    ("file", "bundle.zip", "application/zip"),
    ("file", "clip.mp4", "video/mp4"),
    ("file", "song.mp3", "audio/mpeg"),
    ("file", "index.html", "text/html"),
    ("file", "blob", None),
    ("file", "data.qqq", "application/octet-stream"),
]


@pytest.mark.parametrize(("kind", "name", "mime_type"), ITEMS)
@pytest.mark.parametrize("width", [16, 64, 200, 1024])
def test_icons_are_drawn_at_the_box_width(
    thumbnailer: Thumbnailer, kind: str, name: str, mime_type: str | None, width: int
) -> None:
    opened: list[str] = []

    def open_source() -> BinaryIO:
        opened.append(name)
        return io.BytesIO(b"plain words")

    result = thumbnailer.thumbnail(
        key="k", name=name, mime_type=mime_type, kind=kind, width=width, open_source=open_source
    )
    assert result.content_type == "image/png"
    icon_width, icon_height = size_of(result)
    assert icon_width == width
    assert 1 <= icon_height <= 4 * width
    assert opened == []  # an icon never reads the file


def test_each_kind_has_its_own_icon(thumbnailer: Thumbnailer) -> None:
    labels = ["folder", "DOCX", "XLSX", "PPTX", "PDF", "TXT", "ZIP", "PNG", "MP4", "MP3", ""]
    icons = {thumbnailer.icon(label, 200).data for label in labels}
    assert len(icons) == len(labels)


def test_a_folder_icon_is_not_a_page(thumbnailer: Thumbnailer) -> None:
    folder = decoded(thumbnailer.icon("folder", 200))
    page = decoded(thumbnailer.icon("DOCX", 200))
    # the page reaches the top-left area, the folder leaves it empty
    assert page.getpixel((40, 20))[3] == 255  # type: ignore[index]
    assert folder.getpixel((40, 20))[3] == 0  # type: ignore[index]


def test_icon_labels_are_case_insensitive(thumbnailer: Thumbnailer) -> None:
    assert thumbnailer.icon("docx", 64) == thumbnailer.icon("DOCX", 64)
    assert thumbnailer.icon(".docx", 64) == thumbnailer.icon("DOCX", 64)


def test_labels_the_font_cannot_draw_are_dropped(thumbnailer: Thumbnailer) -> None:
    blank = thumbnailer.icon("", 64)
    for label in ("ÄÖÜ", "tar.gz", "VERYLONGEXT"):
        assert thumbnailer.icon(label, 64) == blank
    assert size_of(thumbnailer.icon("ÄÖÜ", 64))[0] == 64


def test_a_reserved_file_without_content_gets_its_icon(thumbnailer: Thumbnailer) -> None:
    result = thumbnailer.thumbnail(
        key="r", name="photo.png", mime_type="image/png", kind="file", width=200, open_source=None
    )
    assert result == thumbnailer.icon("PNG", 200)


def test_svg_is_never_parsed(thumbnailer: Thumbnailer) -> None:
    opened: list[bool] = []

    def open_source() -> BinaryIO:
        opened.append(True)
        return io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>")

    for name, mime_type in (("drawing.svg", "image/svg+xml"), ("drawing.svg", None)):
        result = thumbnailer.thumbnail(
            key="s", name=name, mime_type=mime_type, kind="file", width=120, open_source=open_source
        )
        assert result == thumbnailer.icon("SVG", 120)
    assert opened == []


# --- files that cannot be rendered -------------------------------------------------------

UNREADABLE = [
    ("broken.png", "image/png", b"\x89PNG\r\n\x1a\n not really", "PNG"),
    ("cut.jpg", "image/jpeg", encoded(Image.effect_noise((400, 400), 60), "JPEG")[:3000], "JPG"),
    ("empty.png", "image/png", b"", "PNG"),
    ("noise.webp", "image/webp", bytes(range(256)) * 8, "WEBP"),
    ("words.gif", "image/gif", b"GIF89a but then only words", "GIF"),
    ("broken.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "PDF"),
    ("empty.pdf", "application/pdf", b"", "PDF"),
    ("script.eps", "image/x-eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "EPS"),
]


@pytest.mark.parametrize(("name", "mime_type", "data", "label"), UNREADABLE)
def test_unreadable_files_get_their_icon_quickly(
    thumbnailer: Thumbnailer, name: str, mime_type: str, data: bytes, label: str
) -> None:
    started = time.monotonic()
    result = preview(thumbnailer, data, name, mime_type)
    assert time.monotonic() - started < 2
    assert result == thumbnailer.icon(label, 200)


def test_a_decompression_bomb_gets_its_icon_in_milliseconds(thumbnailer: Thumbnailer) -> None:
    started = time.monotonic()
    result = preview(thumbnailer, png_claiming(100_000, 100_000), "bomb.png", "image/png")
    assert time.monotonic() - started < 1
    assert result == thumbnailer.icon("PNG", 200)


def test_pillows_bomb_warning_never_escapes(thumbnailer: Thumbnailer) -> None:
    # 10000 x 10000 passes Pillow's warning limit but not its error limit
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS < 10_000 * 10_000 < 2 * Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = preview(thumbnailer, png_claiming(10_000, 10_000), "big.png", "image/png")
    assert result == thumbnailer.icon("PNG", 200)
    assert caught == []


def test_max_pixels_is_checked_before_decoding() -> None:
    small = Thumbnailer(None, max_pixels=100 * 100 - 1)
    assert preview(small, png(100, 100), "a.png", "image/png") == small.icon("PNG", 200)
    enough = Thumbnailer(None, max_pixels=100 * 100)
    assert size_of(preview(enough, png(100, 100), "a.png", "image/png")) == (100, 100)


def test_a_file_gone_from_the_store_propagates(thumbnailer: Thumbnailer) -> None:
    def gone() -> BinaryIO:
        raise FileNotFoundError("gone")

    with pytest.raises(FileNotFoundError):
        thumbnailer.thumbnail(
            key="g", name="a.png", mime_type="image/png", kind="file", width=200, open_source=gone
        )


def test_other_open_failures_get_the_icon(thumbnailer: Thumbnailer) -> None:
    def refused() -> BinaryIO:
        raise PermissionError("no")

    result = thumbnailer.thumbnail(
        key="p",
        name="a.pdf",
        mime_type="application/pdf",
        kind="file",
        width=64,
        open_source=refused,
    )
    assert result == thumbnailer.icon("PDF", 64)


class TrackedFile(io.BytesIO):
    """Counts how many of its kind are open at once."""

    lock = threading.Lock()
    active = 0
    peak = 0
    closed_count = 0

    def __init__(self, data: bytes, delay: float = 0.0) -> None:
        super().__init__(data)
        with TrackedFile.lock:
            TrackedFile.active += 1
            TrackedFile.peak = max(TrackedFile.peak, TrackedFile.active)
        time.sleep(delay)

    def close(self) -> None:
        if not self.closed:
            with TrackedFile.lock:
                TrackedFile.active -= 1
                TrackedFile.closed_count += 1
        super().close()


@pytest.fixture
def tracked() -> type[TrackedFile]:
    TrackedFile.active = TrackedFile.peak = TrackedFile.closed_count = 0
    return TrackedFile


@pytest.mark.parametrize("data", [png(400, 200), b"\x89PNG\r\n\x1a\n not really"])
def test_the_source_is_closed(
    thumbnailer: Thumbnailer, tracked: type[TrackedFile], data: bytes
) -> None:
    thumbnailer.thumbnail(
        key="c",
        name="a.png",
        mime_type="image/png",
        kind="file",
        width=64,
        open_source=lambda: tracked(data),
    )
    assert (tracked.active, tracked.closed_count) == (0, 1)


# --- cache -------------------------------------------------------------------------------


def counting_opener(data: bytes) -> tuple[Callable[[], BinaryIO], list[int]]:
    calls: list[int] = []

    def open_source() -> BinaryIO:
        calls.append(1)
        return io.BytesIO(data)

    return open_source, calls


def cached_preview(
    thumbnailer: Thumbnailer, open_source: Callable[[], BinaryIO], key: str, width: int = 200
) -> Thumbnail:
    return thumbnailer.thumbnail(
        key=key,
        name="a.png",
        mime_type="image/png",
        kind="file",
        width=width,
        open_source=open_source,
    )


def test_a_cache_hit_returns_the_same_bytes_without_reading(tmp_path: pathlib.Path) -> None:
    thumbnailer = Thumbnailer(tmp_path / "cache")
    open_source, calls = counting_opener(png(800, 400))
    first = cached_preview(thumbnailer, open_source, "id1-etag1")
    second = cached_preview(thumbnailer, open_source, "id1-etag1")
    assert second == first
    assert len(calls) == 1
    assert (thumbnailer.hits, thumbnailer.misses) == (1, 1)

    restarted = Thumbnailer(tmp_path / "cache")
    assert cached_preview(restarted, open_source, "id1-etag1") == first
    assert len(calls) == 1

    assert size_of(cached_preview(thumbnailer, open_source, "id1-etag1", width=64)) == (64, 32)
    cached_preview(thumbnailer, open_source, "id1-etag2")
    assert len(calls) == 3
    assert (thumbnailer.hits, thumbnailer.misses) == (1, 3)


def test_the_cache_leaves_only_whole_entries(tmp_path: pathlib.Path) -> None:
    thumbnailer = Thumbnailer(tmp_path / "cache")
    for number in range(5):
        cached_preview(thumbnailer, opener(png(300, 300)), f"id{number}")
    entries = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert len(entries) == 5
    assert not [path for path in entries if path.name.startswith(".tmp")]
    assert all(path.read_bytes().startswith(b"\xff\xd8\xff") for path in entries)


def test_a_cached_png_keeps_its_type(tmp_path: pathlib.Path) -> None:
    thumbnailer = Thumbnailer(tmp_path / "cache")
    first = cached_preview(thumbnailer, opener(rgba_png()), "clear")
    second = cached_preview(thumbnailer, opener(b"not read"), "clear")
    assert first == second
    assert second.content_type == "image/png"


def test_without_a_cache_every_request_renders(thumbnailer: Thumbnailer) -> None:
    open_source, calls = counting_opener(png(800, 400))
    assert cached_preview(thumbnailer, open_source, "k") == cached_preview(
        thumbnailer, open_source, "k"
    )
    assert len(calls) == 2


def test_failed_renders_and_icons_are_not_cached_on_disk(tmp_path: pathlib.Path) -> None:
    thumbnailer = Thumbnailer(tmp_path / "cache")
    cached_preview(thumbnailer, opener(b"\x89PNG\r\n\x1a\n not really"), "broken")
    thumbnailer.thumbnail(
        key="f", name="Folder", mime_type=None, kind="folder", width=200, open_source=None
    )
    cache_dir = tmp_path / "cache"
    assert not cache_dir.exists() or not [p for p in cache_dir.rglob("*") if p.is_file()]


# --- concurrency -------------------------------------------------------------------------


def test_concurrent_renders_never_exceed_the_bound(tracked: type[TrackedFile]) -> None:
    thumbnailer = Thumbnailer(None, max_concurrent=2)
    data = png(800, 400)
    results: list[Thumbnail] = []

    def request(number: int) -> None:
        results.append(
            thumbnailer.thumbnail(
                key=f"k{number}",
                name="a.png",
                mime_type="image/png",
                kind="file",
                width=200,
                open_source=lambda: tracked(data, delay=0.15),
            )
        )

    threads = [threading.Thread(target=request, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tracked.peak == 2
    assert len(results) == 6
    assert all(size_of(result) == (200, 100) for result in results)


def test_waiting_too_long_for_a_slot_gives_the_icon() -> None:
    thumbnailer = Thumbnailer(None, max_concurrent=1, render_timeout=0.05)
    entered, release = threading.Event(), threading.Event()
    slow_results: list[Thumbnail] = []

    def slow_source() -> BinaryIO:
        entered.set()
        release.wait(5)
        return io.BytesIO(png(800, 400))

    def slow_request() -> None:
        slow_results.append(
            thumbnailer.thumbnail(
                key="slow",
                name="a.png",
                mime_type="image/png",
                kind="file",
                width=200,
                open_source=slow_source,
            )
        )

    worker = threading.Thread(target=slow_request)
    worker.start()
    assert entered.wait(5)
    started = time.monotonic()
    waiting = preview(thumbnailer, png(800, 400), "b.png", "image/png")
    assert time.monotonic() - started < 1
    release.set()
    worker.join()
    assert waiting == thumbnailer.icon("PNG", 200)
    assert size_of(slow_results[0]) == (200, 100)


def test_max_concurrent_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Thumbnailer(None, max_concurrent=0)


def test_a_broken_exif_block_still_gets_a_preview(thumbnailer: Thumbnailer) -> None:
    image = Image.new("RGB", (400, 200), RED)
    data = encoded(image, "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff\x00")
    result = preview(thumbnailer, data, "odd.jpg", "image/jpeg", 100)
    assert size_of(result) == (100, 50)
