"""The OpenAPI 3.1 document of the wire contract (SPEC.md §4 and §5), served at ``/openapi.json``.

Built from one table, ``OPERATIONS``, whose endpoints are those of ``router.ENDPOINTS``
(tests/test_openapi.py checks both, and validates real responses against the schemas).
Left out: the OAuth2 pages (``/oauth/authorize``, ``/oauth/token``) and the browser pages
behind ``viewLink`` and ``downloadLink``, which a person's browser opens, not Workfront.
A parameter that may come from the query or a form body is described in both places and
required in neither, because OpenAPI cannot say "one of the two"; its absence is a 400.
"""

from dataclasses import dataclass
from typing import Any

from docrelay import __version__

JSON = dict[str, Any]

REF = "#/components/schemas/"
FORM = "application/x-www-form-urlencoded"
MAX_OFFSET = 2**31 - 1

# The body every failure of an endpoint has (SPEC.md §5); the rest answer ``Error``.
ERROR_SHAPES = {
    "upload": "UploadFail",
    "rename": "Failure",
    "delete": "Failure",
    "customAction": "Failure",
    "customName": "Failure",
}

STATUS_TEXT = {
    400: "A required parameter is missing, a value is malformed, or a name is not allowed.",
    403: "No or bad credentials, or the acting user may not do this.",
    404: "No such id, whatever its form (also an id the acting user may not see).",
    409: "The name is taken (the `fail` policy of `on_conflict`; always for /rename).",
    413: "The body is over the configured limit (a form body over 1 MiB, an upload over "
    "`max_upload_bytes`).",
    416: "A `Range` that no byte of the file satisfies.",
    500: "A fault of docrelay itself.",
    503: "The store is unreachable.",
}


def _ref(name: str) -> JSON:
    return {"$ref": REF + name}


def _string(**constraints: Any) -> JSON:
    return {"type": "string", **constraints}


def _json(schema: JSON, description: str, **extra: Any) -> JSON:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def _query(name: str, description: str, schema: JSON | None = None, **extra: Any) -> JSON:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or _string(),
        **extra,
    }


def _header(name: str, description: str) -> JSON:
    return {"name": name, "in": "header", "description": description, "schema": _string()}


ID = "The id of an item, as docrelay issued it; any other value gets 404."
PARENT = "The id of a folder; missing or empty means the root (`/`)."
NAME = "A name, checked by SPEC.md §6 (stored NFC) and by the store."
MAX = _query(
    "max",
    "At most this many items, from `offset` on.",
    {"type": "integer", "minimum": 1, "maximum": 1000},
)
OFFSET = _query(
    "offset", "Items to skip.", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
)
ROOT_EXAMPLE = {"root": {"summary": "The root", "value": "/"}}
FILLED = _string(minLength=1)  # an empty value counts as missing: 400


@dataclass(frozen=True)
class Operation:
    """One endpoint of SPEC.md §4: its parameters, its answers and the statuses it fails with."""

    summary: str
    methods: tuple[str, ...]
    parameters: list[JSON]
    success: dict[str, JSON]
    errors: tuple[int, ...]
    authenticated: bool = True
    form: bool = False  # POST and PUT: the parameters may also come from a form body
    body: JSON | None = None


def _links(*pairs: tuple[str, str, str]) -> dict[str, JSON]:
    """Links from a 200 metadata object: (link name, operationId, parameter of its id)."""
    return {
        name: {"operationId": operation, "parameters": {parameter: "$response.body#/id"}}
        for name, operation, parameter in pairs
    }


_ITEM_LINKS = (
    ("metadata", "getMetadata", "id"),
    ("rename", "putRename", "query.id"),
    ("delete", "putDelete", "query.id"),
)
_FILE_LINKS = _links(
    ("upload", "putUpload", "id"),
    ("download", "getDownload", "id"),
    ("thumbnail", "getThumbnail", "id"),
    *_ITEM_LINKS,
)
_FOLDER_LINKS = _links(
    ("files", "getFiles", "parentId"),
    ("search", "getSearch", "parentId"),
    ("uploadInit", "postUploadInit", "query.parentId"),
    ("createFolder", "postCreateFolder", "query.parentId"),
    *_ITEM_LINKS,
)


def _download_headers(partial: bool) -> JSON:
    headers: JSON = {
        "Content-Length": {"schema": {"type": "integer", "minimum": 0}},
        "ETag": {
            "schema": _string(pattern='^"[^"]*"$'),
            "description": "Changes with the content.",
        },
        "Last-Modified": {"schema": _string(), "description": "An HTTP date."},
        "Accept-Ranges": {"schema": {"const": "bytes"}},
        "Content-Disposition": {
            "schema": _string(pattern='^attachment; filename="[^"]*"; filename\\*=UTF-8\'\''),
            "description": "RFC 6266: an ASCII fallback and the exact name, RFC 5987 encoded.",
        },
        "X-Content-Type-Options": {"schema": {"const": "nosniff"}},
    }
    if partial:
        headers["Content-Range"] = {"schema": _string(pattern="^bytes [0-9]+-[0-9]+/[0-9]+$")}
    for header in headers.values():
        header["required"] = True
    return headers


_BYTES: JSON = {"*/*": {}}  # OpenAPI 3.1: binary content has no schema; the type is the file's
_DOWNLOAD = {
    "200": {
        "description": "The whole file.",
        "headers": _download_headers(False),
        "content": _BYTES,
    },
    "206": {
        "description": "The single range asked for.",
        "headers": _download_headers(True),
        "content": _BYTES,
    },
    "304": {
        "description": "`If-None-Match` or `If-Modified-Since` holds (RFC 9110).",
        "headers": {"ETag": {"schema": _string(), "required": True}},
    },
}
_THUMBNAIL = {
    "200": {
        "description": "A PNG or JPEG that fits a box `size` wide and 4 × `size` high.",
        "headers": {"X-Content-Type-Options": {"schema": {"const": "nosniff"}, "required": True}},
        "content": {"image/png": {}, "image/jpeg": {}},
    }
}
_SUCCESS = {"200": _json(_ref("Success"), "Done.")}
_CUSTOM_ACTION = Operation(
    "Run a custom action on a document",
    ("GET", "POST"),
    [
        _query("name", "The action's name (see /serviceInfo).", FILLED),
        _query("action", "Accepted for `name`.", FILLED),
        _query("documentId", "The Workfront document id the file was uploaded with."),
        _query("documentVersionId", "The Workfront version id."),
        _query("id", "A docrelay id, instead of `documentId`."),
    ],
    _SUCCESS,
    (400, 403, 404, 500, 503),
    form=True,
)

OPERATIONS: dict[str, Operation] = {
    "metadata": Operation(
        "The metadata object of an item",
        ("GET",),
        [_query("id", ID, FILLED, required=True, examples=ROOT_EXAMPLE)],
        {"200": _json(_ref("Metadata"), "The item.")},
        (400, 403, 404, 500, 503),
    ),
    "files": Operation(
        "The children of a folder: folders first, then files, in natural name order",
        ("GET",),
        [_query("parentId", PARENT, examples=ROOT_EXAMPLE), MAX, OFFSET],
        {"200": _json(_ref("MetadataList"), "A bare array of metadata objects.")},
        (400, 403, 404, 500, 503),
    ),
    "search": Operation(
        "Items whose name contains every word of the query, best matches first",
        ("GET",),
        [
            _query("query", "Literal words; missing or blank finds nothing (`[]`)."),
            _query("parentId", "Limits the search to this folder's subtree."),
            MAX,
            OFFSET,
        ],
        {
            "200": _json(
                _ref("MetadataList"),
                "A bare array of metadata objects (at most 200 without `max`).",
            )
        },
        (400, 403, 404, 500, 503),
    ),
    "download": Operation(
        "A file's bytes, streamed; a single `Range` gets 206",
        ("GET",),
        [
            _query("id", ID, FILLED, required=True),
            _header("Range", "`bytes=first-last`; several ranges or a malformed one: the file."),
            _header("If-Range", "An ETag or date; when it no longer matches: the whole file."),
            _header("If-None-Match", "ETags; a match gets 304."),
            _header("If-Modified-Since", "An HTTP date; not modified since gets 304."),
        ],
        _DOWNLOAD,
        (400, 403, 404, 416, 500, 503),
    ),
    "thumbnail": Operation(
        "A preview of an image or PDF, or the icon of the item's kind",
        ("GET",),
        [
            _query("id", ID, FILLED, required=True, examples=ROOT_EXAMPLE),
            _query(
                "size",
                "The box's width in pixels, an integer clamped to 16..1024; missing or empty: "
                "200. Anything else: 400.",
                _string(pattern="^$|^ *[+-]?[0-9]+ *$"),
            ),
        ],
        _THUMBNAIL,
        (400, 403, 404, 500, 503),
    ),
    "uploadInit": Operation(
        "Reserve a new file (size 0) in a folder",
        ("POST",),
        [
            _query("parentId", PARENT, examples=ROOT_EXAMPLE),
            _query("filename", f"Required (here or in the form body). {NAME}", FILLED),
            _query("documentId", "The Workfront document id, kept with the file."),
            _query("documentVersionId", "The Workfront version id, kept with the file."),
        ],
        {"200": _json(_ref("FileMetadata"), "The reserved file.", links=_FILE_LINKS)},
        (400, 403, 404, 409, 500, 503),
        form=True,
    ),
    "upload": Operation(
        "Set a file's content (a repeated PUT replaces it); visible only once complete",
        ("PUT",),
        [_query("id", ID, FILLED, required=True)],
        {"200": _json(_ref("UploadSuccess"), "Stored.")},
        (400, 403, 404, 409, 413, 500, 503),
        body={
            "description": "The raw bytes, whatever the `Content-Type`; a multipart body "
            "with exactly one file part is unwrapped.",
            "required": False,
            "content": {
                "application/octet-stream": {},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"contentMediaType": "application/octet-stream"}},
                        "required": ["file"],
                    },
                },
            },
        },
    ),
    "createFolder": Operation(
        "Create a folder",
        ("POST",),
        [
            _query("parentId", PARENT, examples=ROOT_EXAMPLE),
            _query("name", f"Required (here or in the form body). {NAME}", FILLED),
        ],
        {"200": _json(_ref("FolderMetadata"), "The new folder.", links=_FOLDER_LINKS)},
        (400, 403, 404, 409, 500, 503),
        form=True,
    ),
    "rename": Operation(
        "Rename an item in place; its id does not change",
        ("PUT",),
        [
            _query("id", f"Required (here or in the form body). {ID} The root: 400.", FILLED),
            _query("name", f"Required (here or in the form body). {NAME}", FILLED),
        ],
        _SUCCESS,
        (400, 403, 404, 409, 500, 503),
        form=True,
    ),
    "delete": Operation(
        "Delete a file, or a folder with its contents (to the trash)",
        ("PUT",),
        [
            _query("id", f"Required, or one of the two below. {ID} The root: 400."),
            _query("documentId", "A docrelay id, for `id`."),
            _query("folderId", "A docrelay id, for `id`."),
        ],
        _SUCCESS,
        (400, 403, 404, 500, 503),
        form=True,
    ),
    "serviceInfo": Operation(
        "What this provider offers; needs no authentication",
        ("GET",),
        [],
        {"200": _json(_ref("ServiceInfo"), "The service.")},
        (500,),
        authenticated=False,
    ),
    "customAction": _CUSTOM_ACTION,
    "customName": _CUSTOM_ACTION,
}

_ID = _string(minLength=1, maxLength=255, pattern="^(/|[A-Za-z0-9._~-]+)$")
_COMMON = {
    "id": {**_ID, "description": "Opaque and stable; the root is `/`."},
    "title": _string(description="The name as stored (NFC); the root's display name."),
    "dateModified": _string(
        format="date-time",
        pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
        description="RFC 3339 in UTC with milliseconds.",
    ),
    "viewLink": _string(format="uri", description="Opened by a browser; the same on every call."),
    "readOnly": {"type": "boolean", "description": "For the acting user."},
}
_FOLDER_FIELDS = ["id", "title", "kind", "dateModified", "viewLink", "readOnly"]
_MEDIA_TYPE = "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"


def _outcome(key: str, value: str, with_error: bool) -> JSON:
    properties: JSON = {key: {"const": value}}
    if with_error:
        properties["error"] = _string(minLength=1, description="One readable sentence.")
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


SCHEMAS: dict[str, JSON] = {
    "Id": _ID,
    "FileMetadata": {
        "type": "object",
        "properties": {
            **_COMMON,
            "kind": {"const": "file"},
            "size": {"type": "integer", "minimum": 0, "description": "Bytes."},
            "mimeType": _string(pattern=_MEDIA_TYPE),
            "downloadLink": _string(format="uri", description="Opened by a browser."),
        },
        "required": [*_FOLDER_FIELDS, "size", "mimeType", "downloadLink"],
        "additionalProperties": False,
    },
    "FolderMetadata": {
        "type": "object",
        "description": "A folder has no size, mimeType or downloadLink.",
        "properties": {**_COMMON, "kind": {"const": "folder"}},
        "required": _FOLDER_FIELDS,
        "additionalProperties": False,
    },
    "Metadata": {
        "oneOf": [_ref("FileMetadata"), _ref("FolderMetadata")],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {"file": REF + "FileMetadata", "folder": REF + "FolderMetadata"},
        },
    },
    "MetadataList": {"type": "array", "items": _ref("Metadata")},
    "Error": _outcome("status", "error", True),
    "UploadFail": _outcome("result", "fail", True),
    "Failure": _outcome("status", "failure", True),
    "Success": _outcome("status", "success", False),
    "UploadSuccess": _outcome("result", "success", False),
    "ServiceInfo": {
        "type": "object",
        "properties": {
            "webhookVersion": {"const": "1.2"},
            "version": _string(),
            "publisher": _string(),
            "availableEndpoints": {"type": "array", "items": _string(), "uniqueItems": True},
            "customActions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": _string(), "displayName": _string()},
                    "required": ["name", "displayName"],
                    "additionalProperties": False,
                },
            },
        },
        "required": [
            "webhookVersion",
            "version",
            "publisher",
            "availableEndpoints",
            "customActions",
        ],
        "additionalProperties": False,
    },
    "Health": _outcome("status", "ok", False),
}

SECURITY_SCHEMES: JSON = {
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "apiKey",
        "description": "ApiKey mode: a key of `docrelay keys create` or `api_key`.",
    },
    "username": {
        "type": "apiKey",
        "in": "header",
        "name": "username",
        "description": "ApiKey mode: the acting user, sent with `apiKey`.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "OAuth2 mode: an access token from `/oauth/token`.",
    },
}
_SECURITY: dict[str, list[JSON]] = {
    "apikey": [{"apiKey": [], "username": []}],
    "oauth2": [{"bearer": []}],
    "both": [{"apiKey": [], "username": []}, {"bearer": []}],
}


# Not attached to an operation (OpenAPI describes only the methods an endpoint takes).
_METHOD_NOT_ALLOWED = _json(
    {"oneOf": [_ref(name) for name in ("Error", "Failure", "UploadFail")]},
    "Any other method on a known endpoint, in that endpoint's failure body.",
    headers={"Allow": {"schema": _string(), "required": True, "description": "The methods."}},
)


def error_shape(endpoint: str) -> str:
    """The schema of every failure body of ``endpoint``."""
    return ERROR_SHAPES.get(endpoint, "Error")


def _has_form(operation: Operation, method: str) -> bool:
    return operation.form and method in ("POST", "PUT")


def _responses(endpoint: str, operation: Operation, method: str) -> JSON:
    head = method == "HEAD"
    responses: JSON = {}
    for code, success in operation.success.items():
        success = dict(success)
        if head:
            success.pop("content", None)
            success.pop("links", None)
        responses[code] = success
    statuses = {*operation.errors}
    if operation.authenticated:
        statuses.add(403)
    if _has_form(operation, method):
        statuses.add(413)  # a form body over 1 MiB
    for status in sorted(statuses):
        response = _json(_ref(error_shape(endpoint)), STATUS_TEXT[status])
        if status == 416:
            pattern = _string(pattern="^bytes \\*/[0-9]+$")
            response["headers"] = {"Content-Range": {"schema": pattern, "required": True}}
        if head:
            response.pop("content")
        responses[str(status)] = response
    return responses


def _operation(endpoint: str, operation: Operation, method: str) -> JSON:
    """The OpenAPI operation object of ``endpoint`` called with ``method``."""
    head = method == "HEAD"
    built: JSON = {
        "operationId": method.lower() + endpoint[0].upper() + endpoint[1:],
        "summary": operation.summary + (" (headers only)" if head else ""),
        "tags": ["Document Webhooks API"],
        "parameters": operation.parameters,
        "responses": _responses(endpoint, operation, method),
    }
    if not operation.authenticated:
        built["security"] = []
    if operation.body is not None:
        built["requestBody"] = operation.body
    elif _has_form(operation, method):
        # Unconstrained: a value here counts only where the query string has none.
        properties = {
            parameter["name"]: _string(description=parameter["description"])
            for parameter in operation.parameters
            if parameter["in"] == "query"
        }
        schema = {"type": "object", "properties": properties}
        built["requestBody"] = {
            "description": "The same parameters as a form; the query string wins.",
            "required": False,
            "content": {FORM: {"schema": schema}},
        }
    return built


def _health() -> JSON:
    get = {
        "operationId": "getHealthz",
        "summary": "Liveness: 200 once the server is ready",
        "tags": ["Operations"],
        "security": [],
        "responses": {"200": _json(_ref("Health"), "Ready.")},
    }
    head = {**get, "operationId": "headHealthz", "responses": {"200": {"description": "Ready."}}}
    return {"get": get, "head": head}


def document(base_url: str | None = None, auth: str = "both") -> JSON:
    """The OpenAPI document; ``base_url`` (the public URL) becomes its server."""
    paths: JSON = {}
    for endpoint, operation in OPERATIONS.items():
        methods = [*operation.methods, *(("HEAD",) if "GET" in operation.methods else ())]
        paths[f"/api/{endpoint}"] = {
            method.lower(): _operation(endpoint, operation, method) for method in methods
        }
    paths["/healthz"] = _health()
    built: JSON = {
        "openapi": "3.1.0",
        "info": {
            "title": "docrelay: Adobe Workfront Document Webhooks API",
            "version": __version__,
            "description": "The endpoints Workfront calls (webhook spec 1.2, as SPEC.md "
            "reads it). Another method on a known endpoint gets 405 and an unknown endpoint "
            "404, each with that endpoint's failure body.",
        },
        "security": _SECURITY[auth],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": SECURITY_SCHEMES,
            "responses": {"MethodNotAllowed": _METHOD_NOT_ALLOWED},
        },
    }
    if base_url is not None:
        built["servers"] = [{"url": base_url}]
    return built
