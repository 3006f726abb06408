"""Whether an answer is one docrelay's OpenAPI document gives: its status, type and body."""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

_URN = "urn:docrelay:openapi"


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._registry = Registry().with_resource(_URN, DRAFT202012.create_resource(document))
        self._validators: dict[str, Draft202012Validator] = {}

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            schema = {"$ref": f"{_URN}#/{pointer}"}
            self._validators[pointer] = Draft202012Validator(schema, registry=self._registry)
        return self._validators[pointer]

    def problem(self, path: str, response: httpx.Response) -> str | None:
        """What is wrong with ``response`` to ``path`` by the document, or None."""
        method = response.request.method.lower()
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        described = operation["responses"].get(status)
        if described is None:
            return f"status {status} is not documented for {method.upper()} {path}"
        for name, header in described.get("headers", {}).items():
            if header.get("required") and name not in response.headers:
                return f"the {name} header is missing"
        content = described.get("content")
        if method == "head" or not content:
            return None
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        chosen = media_type if media_type in content else "*/*"
        if chosen not in content:
            return f"{media_type!r} is not a documented type"
        if "schema" not in content[chosen]:
            return None
        pointer = _pointer("paths", path, method, "responses", status, "content", chosen)
        error = next(self._validator(pointer + "/schema").iter_errors(response.json()), None)
        return None if error is None else f"the body does not match: {error.message[:200]}"
