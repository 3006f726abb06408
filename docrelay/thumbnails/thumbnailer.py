"""The thumbnailer: picks a renderer for an item, bounds and caches renders, falls back to icons.

Images (``image/*`` except SVG, which is never parsed) and PDFs get a real preview;
everything else, and any file whose render fails or waits too long for a slot, gets the
icon of its kind. Only a successful preview is cached on disk; icons are cached in memory.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import pathlib
import threading
import time
from collections.abc import Callable
from typing import BinaryIO

from docrelay.thumbnails.cache import DiskCache
from docrelay.thumbnails.icons import FOLDER, draw_icon, file_label, icon_label
from docrelay.thumbnails.pdf import render_pdf
from docrelay.thumbnails.render import Thumbnail, clamp_width, quiet_pillow, render_image

logger = logging.getLogger("docrelay.thumbnails")

Renderer = Callable[[BinaryIO, int], Thumbnail]


class Thumbnailer:
    """Makes the thumbnail of an item; safe to share between threads.

    ``cache_dir`` holds rendered previews (``None``: no disk cache). At most
    ``max_concurrent`` renders run at once; a request that waits ``render_timeout``
    seconds for a slot gets its icon. Images whose header announces more than
    ``max_pixels`` pixels get their icon without being decoded. ``hits`` and ``misses``
    count disk-cache lookups of previews (with no disk cache, every preview is a miss).
    """

    def __init__(
        self,
        cache_dir: pathlib.Path | None,
        max_concurrent: int = 2,
        max_pixels: int = 64_000_000,
        render_timeout: float = 10.0,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, not {max_concurrent}")
        self._cache = DiskCache(cache_dir) if cache_dir is not None else None
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._max_pixels = max_pixels
        self._render_timeout = render_timeout
        self._counter_lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def thumbnail(
        self,
        *,
        key: str,
        name: str,
        mime_type: str | None,
        kind: str,
        width: int,
        open_source: Callable[[], BinaryIO] | None,
    ) -> Thumbnail:
        """The thumbnail of an item for a box ``width`` wide (clamped to 16..1024).

        ``key`` names the item's id and content version (e.g. ``f"{id}-{etag}"``);
        ``open_source`` opens the file's bytes as a seekable binary file, and is ``None``
        for folders and for reserved files without content. A file that cannot be
        rendered gets its icon, never an exception, with one exception: a
        ``FileNotFoundError`` raised by ``open_source`` itself (the file is gone from the
        store) propagates, so that the caller can answer 404.
        """
        width = clamp_width(width)
        label = icon_label(name, mime_type, kind)
        renderer = self._renderer_for(kind, name, mime_type, label)
        if renderer is None or open_source is None:
            return self.icon(label, width)
        if self._cache is not None:
            cached = self._cache.get(key, width)
            if cached is not None:
                self._count(hit=True)
                return cached
        self._count(hit=False)
        rendered = self._render_in_slot(renderer, open_source, key, width)
        if rendered is None:
            return self.icon(label, width)
        if self._cache is not None:
            self._cache.put(key, width, rendered)
        return rendered

    def icon(self, kind_label: str, width: int) -> Thumbnail:
        """The icon for ``kind_label`` (``"folder"`` or a file extension such as ``"DOCX"``)."""
        label = kind_label if kind_label == FOLDER else file_label(kind_label)
        return draw_icon(label, clamp_width(width))

    def _renderer_for(
        self, kind: str, name: str, mime_type: str | None, label: str
    ) -> Renderer | None:
        if kind != "file":
            return None
        media_type = (mime_type or mimetypes.guess_type(name)[0] or "").split(";")[0]
        media_type = media_type.strip().lower()
        if "svg" in media_type or label == "SVG":
            return None
        if media_type == "application/pdf":
            return render_pdf
        if media_type.startswith("image/"):
            return functools.partial(render_image, max_pixels=self._max_pixels)
        return None

    def _render_in_slot(
        self, renderer: Renderer, open_source: Callable[[], BinaryIO], key: str, width: int
    ) -> Thumbnail | None:
        """Render in one of the bounded slots; ``None`` when no slot frees up or it fails."""
        if not self._slots.acquire(timeout=self._render_timeout):
            logger.warning(
                "no render slot for %s within %.1f s; answering its icon", key, self._render_timeout
            )
            return None
        try:
            return self._render(renderer, open_source, key, width)
        finally:
            self._slots.release()

    def _render(
        self, renderer: Renderer, open_source: Callable[[], BinaryIO], key: str, width: int
    ) -> Thumbnail | None:
        started = time.monotonic()
        try:
            source = open_source()
        except FileNotFoundError:
            raise
        except Exception as error:
            logger.warning("cannot open %s for its thumbnail: %r", key, error)
            return None
        try:
            with source, quiet_pillow():
                rendered = renderer(source, width)
        except Exception as error:
            logger.info("cannot render a thumbnail of %s (%r); answering its icon", key, error)
            logger.debug("render of %s failed", key, exc_info=True)
            return None
        logger.debug("rendered %s at width %d in %.3f s", key, width, time.monotonic() - started)
        return rendered

    def _count(self, *, hit: bool) -> None:
        with self._counter_lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
