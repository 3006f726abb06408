"""The media type of a file, from its name only (never sniffed from its bytes).

Python's ``mimetypes`` table, without the host's ``/etc/mime.types`` so that every
machine answers alike, plus the office and modern formats it lacks on Python 3.11.
"""

import mimetypes

_EXTRA = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".potx": "application/vnd.openxmlformats-officedocument.presentationml.template",
    ".ppsx": "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/vnd.rar",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".psd": "image/vnd.adobe.photoshop",
    ".ai": "application/postscript",
    ".indd": "application/x-indesign",
    ".key": "application/vnd.apple.keynote",
    ".numbers": "application/vnd.apple.numbers",
    ".pages": "application/vnd.apple.pages",
}

_TABLE = mimetypes.MimeTypes(filenames=())
for _extension, _type in _EXTRA.items():
    _TABLE.add_type(_type, _extension)

DEFAULT = "application/octet-stream"


def media_type(name: str) -> str:
    guessed, encoding = _TABLE.guess_type(name, strict=False)
    if encoding == "gzip":
        return "application/gzip"
    if encoding is not None:
        return DEFAULT
    return guessed or DEFAULT
