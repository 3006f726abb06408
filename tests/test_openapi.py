"""The OpenAPI document: valid, the router's endpoints exactly, and real answers conform."""

import io
from pathlib import Path
from typing import Any

import pytest
from conftest import Workfront, make_settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from PIL import Image
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from docrelay.api.errors import body
from docrelay.api.openapi import SCHEMAS, document, error_shape
from docrelay.api.router import ENDPOINTS
from docrelay.app import create_app

DOCUMENT = document("http://docrelay.test")
URN = "urn:docrelay:openapi"
REGISTRY = Registry().with_resource(URN, DRAFT202012.create_resource(DOCUMENT))
FAILURE_SHAPES = {"Error", "UploadFail", "Failure"}


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{URN}#/{pointer}"}, registry=REGISTRY)


def _schema_errors(name: str, instance: Any) -> list[str]:
    return [error.message for error in _validator(_pointer("components", "schemas", name))
            .iter_errors(instance)]  # fmt: skip


def conforms(path: str, method: str, response: Any) -> None:
    """The answer is one the document gives for this call: status, type, headers, body."""
    operation = DOCUMENT["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (path, method, status, response.text)
    described = operation["responses"][status]
    for name, header in described.get("headers", {}).items():
        value = response.headers.get(name)
        assert value is not None or not header.get("required"), (path, status, name)
        if value is not None:
            typed: Any = int(value) if header["schema"].get("type") == "integer" else value
            assert Draft202012Validator(header["schema"]).is_valid(typed), (name, value)
    content = described.get("content")
    if method == "HEAD" or content is None:
        assert not response.content, (path, status)
        return
    media_type = response.headers["content-type"].split(";")[0].strip()
    chosen = media_type if media_type in content else "*/*"
    assert chosen in content, (path, status, media_type)
    if "schema" in content[chosen]:
        pointer = _pointer("paths", path, method.lower(), "responses", status, "content", chosen)
        errors = list(_validator(pointer + "/schema").iter_errors(response.json()))
        assert not errors, (path, status, response.json(), [error.message for error in errors])


@pytest.mark.parametrize("auth", ["apikey", "oauth2", "both"])
def test_the_document_is_valid_openapi(auth: str) -> None:
    validate(document("https://docs.example.com", auth))
    validate(document())


def test_its_paths_are_the_routers_endpoints_with_their_methods() -> None:
    api_paths = {path for path in DOCUMENT["paths"] if path.startswith("/api/")}
    assert api_paths == {f"/api/{name}" for name in ENDPOINTS}
    assert set(DOCUMENT["paths"]) - api_paths == {"/healthz"}
    for name, endpoint in ENDPOINTS.items():
        operations = DOCUMENT["paths"][f"/api/{name}"]
        assert set(operations) == {method.lower() for method in endpoint.methods}, name
        for method, operation in operations.items():
            assert (operation.get("security") == []) == (not endpoint.authenticated), name
            if endpoint.authenticated:
                assert "403" in operation["responses"], (name, method)
            form = "application/x-www-form-urlencoded"
            has_form = form in operation.get("requestBody", {}).get("content", {})
            assert has_form == (endpoint.body_parameters and method in ("post", "put")), name


def test_every_failure_is_documented_in_the_shape_the_api_sends() -> None:
    for name in ENDPOINTS:
        sent = body(name, "It failed.")
        assert not _schema_errors(error_shape(name), sent), name
        others = FAILURE_SHAPES - {error_shape(name)}
        assert all(_schema_errors(other, sent) for other in others), name
        for operation in DOCUMENT["paths"][f"/api/{name}"].values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "content" in response:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/" + error_shape(name)}


def test_the_metadata_schemas_keep_files_and_folders_apart() -> None:
    file_only = {"size", "mimeType", "downloadLink"}
    assert file_only <= set(SCHEMAS["FileMetadata"]["required"])
    assert not file_only & set(SCHEMAS["FolderMetadata"]["properties"])
    folder = {"id": "/", "title": "Documents", "kind": "folder", "viewLink": "http://x/view/%2F",
              "dateModified": "2014-06-05T17:39:45.251Z", "readOnly": False}  # fmt: skip
    assert not _schema_errors("Metadata", folder)
    assert _schema_errors("Metadata", {**folder, "size": 0})
    assert _schema_errors("Metadata", {**folder, "dateModified": "20140605T173945.251Z"})
    file = {**folder, "id": "abc", "kind": "file", "size": 3, "mimeType": "text/plain",
            "downloadLink": "http://x/download/abc"}  # fmt: skip
    assert not _schema_errors("Metadata", file)
    assert _schema_errors("Metadata", {**file, "size": "3"})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_real_answers_conform_to_the_document(wf: Workfront) -> None:
    def check(method: str, endpoint: str, **kwargs: Any) -> Any:
        response = wf.call(method, endpoint, **kwargs)
        conforms(f"/api/{endpoint}", method, response)
        return response

    folder = check("POST", "createFolder", params={"parentId": "/", "name": "Reports"}).json()
    item = check("POST", "uploadInit", data={"parentId": folder["id"], "filename": "a.png"})
    file_id = item.json()["id"]
    check("PUT", "upload", params={"id": file_id}, content=_png())
    check("GET", "metadata", params={"id": "/"})
    check("GET", "metadata", params={"id": file_id})
    check("GET", "files", params={"parentId": folder["id"]})
    check("GET", "files", params={"parentId": "/", "max": "1", "offset": "0"})
    check("HEAD", "files", params={"parentId": "/"})
    assert check("GET", "search", params={"query": "a"}).json()
    whole = check("GET", "download", params={"id": file_id})
    check("GET", "download", params={"id": file_id}, headers={"Range": "bytes=2-5"})
    check("GET", "download", params={"id": file_id}, headers={"Range": "bytes=99999-"})
    check(
        "GET", "download", params={"id": file_id}, headers={"If-None-Match": whole.headers["etag"]}
    )
    check("HEAD", "download", params={"id": file_id})
    check("GET", "thumbnail", params={"id": file_id, "size": "64"})
    check("GET", "thumbnail", params={"id": folder["id"]})
    check("GET", "serviceInfo", auth=False)
    check("PUT", "rename", params={"id": file_id, "name": "b.png"})
    check("GET", "customAction", params={"name": "nope", "id": file_id})
    check("PUT", "delete", data={"id": file_id})
    conforms("/healthz", "GET", wf.client.get("/healthz"))


def test_failures_conform_to_the_document(wf: Workfront) -> None:
    def check(method: str, endpoint: str, status: int, **kwargs: Any) -> None:
        response = wf.call(method, endpoint, **kwargs)
        assert response.status_code == status, (endpoint, response.text)
        conforms(f"/api/{endpoint}", method, response)

    file_id = wf.upload("/", "x.txt", b"x")["id"]
    check("GET", "metadata", 404, params={"id": "no-such-id"})
    check("GET", "metadata", 400)
    check("GET", "files", 400, params={"parentId": file_id})
    check("GET", "files", 400, params={"max": "0"})
    check("GET", "search", 400, params={"query": "x", "parentId": file_id})
    check("GET", "download", 400, params={"id": "/"})
    empty_id = wf.upload("/", "empty.txt", b"")["id"]  # no byte satisfies a suffix range either
    check("GET", "download", 416, params={"id": empty_id}, headers={"Range": "bytes=-5"})
    check("GET", "thumbnail", 400, params={"id": file_id, "size": "wide"})
    check("GET", "metadata", 403, auth=False, params={"id": "/"})
    check("POST", "uploadInit", 400, params={"filename": "a/b"})
    check("POST", "createFolder", 404, params={"parentId": "nope", "name": "a"})
    check("POST", "createFolder", 413, content=b"name=" + b"a" * (1024 * 1024 + 1),
          headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    check("PUT", "upload", 404, params={"id": "nope"}, content=b"x")
    check("PUT", "upload", 403, auth=False, params={"id": file_id})
    check("PUT", "rename", 400, params={"id": "/", "name": "x"})
    wf.upload("/", "y.txt", b"y")
    check("PUT", "rename", 409, params={"id": file_id, "name": "y.txt"})
    check("PUT", "delete", 404, params={"id": "nope"})
    check("PUT", "delete", 403, auth=False, params={"id": file_id})
    check("GET", "customAction", 404, params={"name": "nope", "id": file_id})


def test_uploads_over_the_limit_and_taken_names_conform(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_upload_bytes=4, on_conflict="fail")
    with TestClient(create_app(settings), base_url="http://docrelay.test") as client:
        wf = Workfront(client, Path(settings.root))
        file_id = wf.upload("/", "x.txt", b"x")["id"]
        for endpoint, method, kwargs in [
            ("upload", "PUT", {"params": {"id": file_id}, "content": b"too large"}),
            ("uploadInit", "POST", {"params": {"filename": "x.txt"}}),
            ("createFolder", "POST", {"params": {"name": "X.TXT"}}),
        ]:
            response = wf.call(method, endpoint, **kwargs)
            assert response.status_code in (409, 413), (endpoint, response.text)
            conforms(f"/api/{endpoint}", method, response)


def test_a_wrong_method_gets_405_with_allow_in_the_endpoints_shape(wf: Workfront) -> None:
    method_not_allowed = DOCUMENT["components"]["responses"]["MethodNotAllowed"]
    schema = method_not_allowed["content"]["application/json"]["schema"]
    pointer = _pointer("components", "responses", "MethodNotAllowed", "content")
    for name, endpoint in ENDPOINTS.items():
        response = wf.call("PATCH", name)
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) == endpoint.methods
        assert schema["oneOf"] and _validator(pointer + "/application~1json/schema").is_valid(
            response.json()
        )
        assert not _schema_errors(error_shape(name), response.json())


def test_the_document_is_served_without_credentials(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == document("http://docrelay.test", "apikey")
