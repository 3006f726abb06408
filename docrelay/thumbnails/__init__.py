"""Thumbnails: real previews of images and PDFs, icons for every other item.

``Thumbnailer`` is composed once at start-up and shared; ``box_width`` parses the
``size`` parameter of ``/thumbnail``.
"""

from docrelay.thumbnails.render import Thumbnail, box_width
from docrelay.thumbnails.thumbnailer import Thumbnailer

__all__ = ["Thumbnail", "Thumbnailer", "box_width"]
