"""The PDF renderer: the first page through pdfium, at the page's own size or smaller.

pdfium is not thread-safe, so every call into it, from opening the document to closing
it, holds one module-wide lock; the Pillow work after that runs outside it. The
document is read lazily from the file object, never loaded whole.
"""

from __future__ import annotations

import threading
from typing import BinaryIO

import pypdfium2 as pdfium
from PIL import Image

from docrelay.thumbnails.render import Thumbnail, encode, fit_box

_PDFIUM_LOCK = threading.Lock()


class EmptyDocument(ValueError):
    """The PDF has no page to show."""


def render_pdf(source: BinaryIO, width: int) -> Thumbnail:
    """Render page 1 of the PDF in ``source`` for a box ``width`` wide.

    A page's natural size is its size in points at 72 dpi; it is scaled down to fit the
    box, never up. Raises whatever pdfium raises for a broken or encrypted file.
    """
    with _PDFIUM_LOCK:
        image, target = _render_first_page(source, width)
    if image.size != target:  # pdfium rounds the bitmap size up; correct the odd pixel
        image = image.resize(target, Image.Resampling.LANCZOS)
    return encode(image)


def _render_first_page(source: BinaryIO, width: int) -> tuple[Image.Image, tuple[int, int]]:
    """Must be called with ``_PDFIUM_LOCK`` held; closes every pdfium object it opens."""
    document = pdfium.PdfDocument(source)
    try:
        if len(document) < 1:
            raise EmptyDocument("the PDF has no pages")
        page = document[0]
        try:
            page_width, page_height = (float(value) for value in page.get_size())
            if page_width <= 0 or page_height <= 0:
                raise EmptyDocument(f"page 1 measures {page_width}x{page_height} points")
            natural = (max(1, round(page_width)), max(1, round(page_height)))
            target = fit_box(natural, width)
            bitmap = page.render(scale=min(1.0, target[0] / page_width))
            try:
                # to_pil() may share the bitmap's buffer; convert() makes an own copy.
                image: Image.Image = bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    return image, target
