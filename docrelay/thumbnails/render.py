"""Rendering primitives: the thumbnail value, box geometry, encoding and the image renderer.

A preview fits a box ``width`` pixels wide and ``4 * width`` high, keeps its aspect
ratio and is never enlarged. Output format: a preview with real transparency is PNG;
an opaque one is JPEG at quality 85 (much smaller for photos, the common case).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

from PIL import ExifTags, Image, ImageOps

from docrelay.numbers import decimal

DEFAULT_WIDTH = 200
MIN_WIDTH = 16
MAX_WIDTH = 1024
JPEG_QUALITY = 85

# Only these decoders are ever tried: common raster formats with no external helper
# (EPS, for instance, would run Ghostscript). Anything else gets its icon.
# (A JPEG with several pictures opens through the JPEG decoder as format "MPO".)
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP", "ICO", "PPM", "AVIF")

_ORIENTATIONS_THAT_SWAP = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class Thumbnail:
    """Encoded thumbnail bytes and their media type (``image/png`` or ``image/jpeg``)."""

    data: bytes
    content_type: str


class ImageTooLarge(ValueError):
    """The image's header announces more pixels than the renderer accepts."""


def box_width(raw: str | None) -> int:
    """Parse the ``size`` parameter of ``/thumbnail``.

    ``None`` or ``""`` gives the default 200; a value that is not an integer (``"wide"``,
    ``"1.5"``) raises ``ValueError``; an integer is clamped to 16..1024.
    """
    if raw is None or raw == "":
        return DEFAULT_WIDTH
    text = raw.strip(" ")
    sign, digits = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    value = decimal(digits, MAX_WIDTH)
    if value is None:
        raise ValueError(f"size must be an integer, not {raw!r}")
    if sign == "-":
        return MIN_WIDTH
    return clamp_width(value)


def clamp_width(width: int) -> int:
    """Clamp a box width to the allowed 16..1024."""
    return max(MIN_WIDTH, min(MAX_WIDTH, width))


def _round_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, in integers (no float error)."""
    return (2 * numerator + denominator) // (2 * denominator)


def fit_box(size: tuple[int, int], width: int) -> tuple[int, int]:
    """The size of ``size`` scaled to fit ``width`` x ``4 * width``, never enlarged."""
    natural_width, natural_height = max(1, size[0]), max(1, size[1])
    box_height = 4 * width
    if natural_width <= width and natural_height <= box_height:
        return natural_width, natural_height
    if width * natural_height <= box_height * natural_width:  # the width binds
        return width, max(1, _round_div(natural_height * width, natural_width))
    return max(1, _round_div(natural_width * box_height, natural_height)), box_height


@contextlib.contextmanager
def quiet_pillow() -> Iterator[None]:
    """Keep Pillow's warnings about a user's file (bomb size, corrupt EXIF) from printing.

    ``catch_warnings`` is process-wide on Python 3.11, so two renders overlapping may
    leave these two filters installed after both end; both only silence Pillow, which is
    exactly what every render wants, so that outcome is harmless.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", module=r"PIL(\.|$)")
        yield


def encode(image: Image.Image, icc_profile: bytes | None = None) -> Thumbnail:
    """Encode an RGB, RGBA, L or LA image: PNG when it has alpha, JPEG otherwise.

    ``icc_profile`` is embedded only when its colour space matches the image's.
    """
    wanted_space = b"GRAY" if image.mode in ("L", "LA") else b"RGB "
    extra = (
        {"icc_profile": icc_profile} if icc_profile and icc_profile[16:20] == wanted_space else {}
    )
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA"):
        image.save(buffer, "PNG", **extra)
        return Thumbnail(buffer.getvalue(), "image/png")
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, **extra)
    return Thumbnail(buffer.getvalue(), "image/jpeg")


def render_image(source: BinaryIO, width: int, max_pixels: int) -> Thumbnail:
    """Decode an image from ``source`` and encode its thumbnail for a box ``width`` wide.

    The size is checked from the header before any pixel is decoded; raises
    ``ImageTooLarge`` beyond ``max_pixels`` and whatever Pillow raises for a bad file.
    Only the first frame of an animation is used.
    """
    with Image.open(source, formats=_decoders()) as image:
        image_width, image_height = image.size
        if image_width < 1 or image_height < 1 or image_width * image_height > max_pixels:
            raise ImageTooLarge(f"{image_width}x{image_height} exceeds {max_pixels} pixels")
        orientation = _orientation(image)
        swaps = orientation in _ORIENTATIONS_THAT_SWAP
        target = fit_box((image_height, image_width) if swaps else image.size, width)
        if image.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, still at least the target size.
            image.draft(image.mode, (target[1], target[0]) if swaps else target)
        oriented = ImageOps.exif_transpose(image) if orientation != 1 else image.copy()
    icc_profile = oriented.info.get("icc_profile")
    prepared = _resizable(oriented)
    if prepared.size != target:
        prepared = prepared.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return encode(_displayable(prepared), icc_profile if isinstance(icc_profile, bytes) else None)


def _decoders() -> list[str]:
    """The formats of ``IMAGE_FORMATS`` this Pillow build can open (AVIF may be missing)."""
    Image.init()
    return [name for name in IMAGE_FORMATS if name in Image.OPEN]


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # a broken EXIF block only loses the orientation
        return 1
    return value if isinstance(value, int) else 1


def _resizable(image: Image.Image) -> Image.Image:
    """Convert the modes that Pillow resizes badly or that carry a transparency key."""
    if image.mode == "PA" or (
        "transparency" in image.info and image.mode in ("1", "L", "P", "RGB")
    ):
        return image.convert("RGBA")
    if image.mode == "P":
        return image.convert("RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def _displayable(image: Image.Image) -> Image.Image:
    """Bring any decoded mode to RGB, RGBA, L or LA; drop an alpha channel that is all opaque."""
    mode = image.mode
    if mode.startswith("I;16"):
        result = _stretch_to_8_bit(image, 0.0, 65535.0)
    elif mode in ("I", "F"):
        low, high = cast(tuple[float, float], image.convert("F").getextrema())
        result = _stretch_to_8_bit(image, low, high)
    elif mode == "RGBa":
        result = image.convert("RGBA")
    elif mode == "La":
        result = image.convert("LA")
    elif mode in ("RGB", "RGBA", "L", "LA"):
        result = image
    else:  # CMYK, YCbCr, LAB, HSV, RGBX
        result = image.convert("RGB")
    if result.mode in ("RGBA", "LA") and result.getchannel("A").getextrema()[0] == 255:
        result = result.convert(result.mode[0] if result.mode == "LA" else "RGB")
    return result


def _stretch_to_8_bit(image: Image.Image, low: float, high: float) -> Image.Image:
    """Map the values ``low..high`` of a 16/32-bit or float image linearly onto 0..255."""
    factor = 255.0 / (high - low) if high > low else 0.0
    return image.convert("F").point(lambda value: (value - low) * factor).convert("L")
