"""The disk cache of rendered previews.

An entry is named by the sha256 of (key, width, renderer version), so a new content
version (the caller puts it in the key) or a new renderer never reads a stale entry.
Entries are written to a temporary file and renamed into place, so a reader sees a
whole entry or none. The media type is read back from the bytes' signature.
Entries are never pruned here: old content versions stay on disk until removed by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pathlib
import tempfile

from docrelay.thumbnails.render import Thumbnail

logger = logging.getLogger("docrelay.thumbnails")

# Raise whenever a change to the renderers changes their output, to retire old entries.
RENDERER_VERSION = "1"

_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


class DiskCache:
    """Rendered thumbnails under ``root``, two hex digits of fan-out per entry."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root

    def path_for(self, key: str, width: int) -> pathlib.Path:
        name = f"{RENDERER_VERSION}\n{width}\n{key}".encode()
        digest = hashlib.sha256(name).hexdigest()
        return self.root / digest[:2] / digest

    def get(self, key: str, width: int) -> Thumbnail | None:
        """The cached thumbnail, or ``None`` when absent or unreadable."""
        path = self.path_for(key, width)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            logger.warning("cannot read thumbnail cache entry %s: %s", path, error)
            return None
        for signature, content_type in _SIGNATURES:
            if data.startswith(signature):
                return Thumbnail(data, content_type)
        logger.warning("ignoring thumbnail cache entry %s: not a PNG or JPEG", path)
        return None

    def put(self, key: str, width: int, thumbnail: Thumbnail) -> None:
        """Store ``thumbnail`` atomically; a failure is logged and otherwise ignored."""
        path = self.path_for(key, width)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(thumbnail.data)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as error:
            logger.warning("cannot write thumbnail cache entry %s: %s", path, error)
