"""Icons for items without a preview, drawn with Pillow at the box's width.

An icon is named by its label: ``"folder"`` (exactly, lower case) for a folder, and for a
file its extension in capitals (``"DOCX"``), or ``""`` when it has none. The label picks
the colour and glyph (a folder shape; a page with a folded corner carrying a glyph of the
kind and the label). Icons are ``width`` x ``1.25 * width``, PNG with a transparent
background, drawn at up to 4x and scaled down for smooth edges.
"""

from __future__ import annotations

import functools
import io
import mimetypes
import posixpath
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from docrelay.thumbnails.render import Thumbnail

FOLDER = "folder"
_MAX_LABEL_LENGTH = 8
_WHITE = (255, 255, 255, 255)

Box = tuple[float, float, float, float]
Scale = Callable[..., tuple[float, ...]]


@dataclass(frozen=True)
class _Kind:
    colour: tuple[int, int, int]
    glyph: str


_KINDS = {
    "document": _Kind((43, 87, 154), "lines"),
    "spreadsheet": _Kind((33, 115, 70), "grid"),
    "presentation": _Kind((209, 72, 37), "pie"),
    "pdf": _Kind((196, 30, 36), "lines"),
    "text": _Kind((96, 109, 122), "lines"),
    "code": _Kind((112, 64, 168), "code"),
    "archive": _Kind((133, 96, 58), "zipper"),
    "image": _Kind((0, 131, 143), "picture"),
    "video": _Kind((194, 24, 91), "play"),
    "audio": _Kind((81, 72, 196), "note"),
    "unknown": _Kind((138, 143, 150), "none"),
}
_FOLDER_BACK = (214, 150, 24)
_FOLDER_FRONT = (246, 190, 54)

_EXTENSIONS = {
    "document": "doc docx docm dot dotx odt ott rtf pages wpd wps",
    "spreadsheet": "xls xlsx xlsm xlsb xlt xltx ods ots csv tsv numbers",
    "presentation": "ppt pptx pptm pps ppsx pot potx odp otp key",
    "pdf": "pdf",
    "text": "txt text md markdown rst log ini cfg conf toml yaml yml",
    "code": "html htm xhtml xml json js mjs ts css py java c h cpp cs go rs rb php sh sql",
    "archive": "zip tar gz tgz bz2 xz 7z rar zst lz lzma cab iso dmg",
    "image": "png jpg jpeg gif bmp tif tiff webp svg heic heif avif ico psd ai eps",
    "video": "mp4 m4v mov avi mkv webm wmv flv mpg mpeg 3gp ogv",
    "audio": "mp3 wav flac ogg oga m4a aac wma aif aiff opus mid midi",
}
_KIND_OF_EXTENSION = {
    extension.upper(): kind for kind, names in _EXTENSIONS.items() for extension in names.split()
}
_KIND_OF_MEDIA_TYPE = {"text": "text", "image": "image", "video": "video", "audio": "audio"}


def icon_label(name: str, mime_type: str | None, kind: str) -> str:
    """The icon label of an item: ``"folder"``, a file's extension in capitals, or ``""``."""
    if kind == "folder":
        return FOLDER
    extension = posixpath.splitext(name)[1]
    if not extension and mime_type:
        extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ""
    return file_label(extension)


def file_label(text: str) -> str:
    """``text`` (an extension, with or without its dot) as a file's label, or ``""``.

    A label is ASCII letters and digits, at most 8 of them, in capitals; anything else
    would not draw well in the default font, so it is dropped.
    """
    label = text.strip().removeprefix(".").upper()
    if len(label) <= _MAX_LABEL_LENGTH and label.isascii() and label.isalnum():
        return label
    return ""


def kind_of_label(label: str) -> str:
    """The kind (``"document"``, ``"image"``, … or ``"unknown"``) a file label stands for."""
    if label in _KIND_OF_EXTENSION:
        return _KIND_OF_EXTENSION[label]
    guessed, _ = mimetypes.guess_type(f"x.{label.lower()}") if label else (None, None)
    return _KIND_OF_MEDIA_TYPE.get((guessed or "").split("/")[0], "unknown")


@functools.lru_cache(maxsize=512)
def draw_icon(label: str, width: int) -> Thumbnail:
    """The icon for ``label`` (see the module docstring), ``width`` pixels wide."""
    height = max(1, round(width * 1.25))
    supersample = max(2, min(4, 800 // width))
    canvas = Image.new("RGBA", (width * supersample, height * supersample), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    unit = width * supersample / 100  # drawings are laid out on a 100 x 125 grid

    at: Scale = functools.partial(_scaled, unit)
    if label == FOLDER:
        _draw_folder(draw, at)
    else:
        kind = _KINDS[kind_of_label(label)]
        _draw_page(draw, at, kind.colour)
        _GLYPHS[kind.glyph](draw, at)
        if label and width >= 40:
            _draw_label(draw, unit, label)

    if supersample > 1:
        canvas = canvas.resize((width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return Thumbnail(buffer.getvalue(), "image/png")


def _scaled(unit: float, *grid: float) -> tuple[float, ...]:
    """Grid coordinates (a 100 x 125 layout) in canvas pixels."""
    return tuple(value * unit for value in grid)


def _draw_folder(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    draw.rounded_rectangle(_box(at(8, 30, 46, 50)), radius=at(5)[0], fill=_FOLDER_BACK)
    draw.rounded_rectangle(_box(at(8, 38, 92, 100)), radius=at(6)[0], fill=_FOLDER_BACK)
    draw.rounded_rectangle(_box(at(8, 48, 92, 100)), radius=at(6)[0], fill=_FOLDER_FRONT)


def _draw_page(draw: ImageDraw.ImageDraw, at: Scale, colour: tuple[int, int, int]) -> None:
    """A page from (14, 6) to (86, 119) with its top-right corner folded over."""
    draw.polygon(_points(at(14, 6, 66, 6, 86, 26, 86, 119, 14, 119)), fill=colour)
    lighter = tuple(channel + (255 - channel) * 45 // 100 for channel in colour)
    draw.polygon(_points(at(66, 6, 66, 26, 86, 26)), fill=lighter)


def _draw_label(draw: ImageDraw.ImageDraw, unit: float, label: str) -> None:
    """The label in white, centred in the lower part of the page, shrunk to fit its width."""
    size = 19 * unit
    font = ImageFont.load_default(size=size)
    length = draw.textlength(label, font=font)
    if length > 60 * unit:
        size = size * 60 * unit / length
        font = ImageFont.load_default(size=size)
    stroke = size / 24  # a slightly bolder face than the default font's regular
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font, stroke_width=stroke)
    x = 50 * unit - (left + right) / 2
    y = 99 * unit - (top + bottom) / 2
    draw.text((x, y), label, font=font, fill=_WHITE, stroke_width=stroke, stroke_fill=_WHITE)


def _lines(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    for top, right in ((36, 72), (46, 72), (56, 72), (66, 58)):
        draw.rounded_rectangle(_box(at(28, top, right, top + 4)), radius=at(2)[0], fill=_WHITE)


def _grid(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    stroke = max(1, round(at(3)[0]))
    draw.rectangle(_box(at(27, 34, 73, 72)), outline=_WHITE, width=stroke)
    for x in (42, 58):
        draw.line(at(x, 34, x, 72), fill=_WHITE, width=stroke)
    for y in (46.5, 59):
        draw.line(at(27, y, 73, y), fill=_WHITE, width=stroke)
    draw.rectangle(_box(at(27, 34, 73, 46.5)), fill=_WHITE)


def _pie(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    draw.pieslice(_box(at(30, 34, 70, 74)), start=0, end=270, fill=_WHITE)
    draw.pieslice(_box(at(33, 31, 73, 71)), start=270, end=360, fill=_WHITE)


def _code(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    stroke = max(1, round(at(4.5)[0]))
    draw.line(at(40, 40, 28, 54, 40, 68), fill=_WHITE, width=stroke, joint="curve")
    draw.line(at(60, 40, 72, 54, 60, 68), fill=_WHITE, width=stroke, joint="curve")
    draw.line(at(54, 38, 46, 70), fill=_WHITE, width=stroke)


def _zipper(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    for step in range(8):
        top = 8 + step * 6
        left = 44 if step % 2 else 50
        draw.rectangle(_box(at(left, top, left + 6, top + 3.5)), fill=_WHITE)
    stroke = max(1, round(at(3)[0]))
    draw.rounded_rectangle(_box(at(43, 56, 57, 74)), radius=at(3)[0], outline=_WHITE, width=stroke)


def _picture(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    draw.ellipse(_box(at(56, 36, 68, 48)), fill=_WHITE)
    draw.polygon(_points(at(26, 72, 41, 48, 51, 62, 59, 53, 74, 72)), fill=_WHITE)


def _play(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    draw.polygon(_points(at(38, 38, 38, 72, 67, 55)), fill=_WHITE)


def _note(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    stroke = max(1, round(at(3.5)[0]))
    draw.ellipse(_box(at(29, 62, 42, 73)), fill=_WHITE)
    draw.ellipse(_box(at(55, 58, 68, 69)), fill=_WHITE)
    draw.line(at(40.5, 67, 40.5, 40), fill=_WHITE, width=stroke)
    draw.line(at(66.5, 63, 66.5, 35), fill=_WHITE, width=stroke)
    draw.polygon(_points(at(39, 38, 68, 33, 68, 41, 39, 46)), fill=_WHITE)


def _none(draw: ImageDraw.ImageDraw, at: Scale) -> None:
    """Unknown kinds show the bare page and their label."""


def _box(values: tuple[float, ...]) -> Box:
    x0, y0, x1, y1 = values
    return x0, y0, x1, y1


def _points(values: tuple[float, ...]) -> list[tuple[float, float]]:
    return list(zip(values[::2], values[1::2], strict=True))


_GLYPHS: dict[str, Callable[[ImageDraw.ImageDraw, Scale], None]] = {
    "lines": _lines,
    "grid": _grid,
    "pie": _pie,
    "code": _code,
    "zipper": _zipper,
    "picture": _picture,
    "play": _play,
    "note": _note,
    "none": _none,
}
