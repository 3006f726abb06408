"""``/api/{endpoint}``: Workfront's quirks of routing and authentication, in one place.

One route takes every call under ``/api``, so that an unknown endpoint (404), a wrong
method (405) and a doubled slash all get SPEC.md's shapes; then the acting user is
authenticated, the parameters merged, and the endpoint's handler run.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from docrelay.api import browse, content, manage, service
from docrelay.api.context import Call
from docrelay.api.errors import error_response
from docrelay.api.params import Params
from docrelay.errors import Forbidden, MethodNotAllowed, NotFound
from docrelay.services import Services

Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    handler: Handler
    methods: frozenset[str]
    authenticated: bool = True
    body_parameters: bool = True  # False: the body is content, never parameters


def _endpoint(handler: Handler, *methods: str, **options: bool) -> Endpoint:
    allowed = set(methods)
    if "GET" in allowed:
        allowed.add("HEAD")
    return Endpoint(handler, frozenset(allowed), **options)


ENDPOINTS: dict[str, Endpoint] = {
    "metadata": _endpoint(browse.get_metadata, "GET"),
    "files": _endpoint(browse.list_files, "GET"),
    "search": _endpoint(browse.search, "GET"),
    "download": _endpoint(content.download, "GET"),
    "thumbnail": _endpoint(content.thumbnail, "GET"),
    "uploadInit": _endpoint(manage.upload_init, "POST"),
    "upload": _endpoint(manage.upload, "PUT", body_parameters=False),
    "createFolder": _endpoint(manage.create_folder, "POST"),
    "rename": _endpoint(manage.rename, "PUT"),
    "delete": _endpoint(manage.delete, "PUT"),
    "serviceInfo": _endpoint(service.service_info, "GET", authenticated=False),
    "customAction": _endpoint(service.custom_action, "GET", "POST"),
    "customName": _endpoint(service.custom_action, "GET", "POST"),
}


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value.strip() if value is not None else None


def _bearer(request: Request) -> str | None:
    scheme, _space, token = (request.headers.get("authorization") or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class ApiRouter:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, request: Request) -> Response:
        name = request.path_params.get("endpoint", "").strip("/")
        try:
            endpoint = ENDPOINTS.get(name)
            if endpoint is None:
                raise NotFound(f"There is no endpoint {name!r}.")
            if request.method not in endpoint.methods:
                allowed = ", ".join(sorted(endpoint.methods))
                message = f"{name} takes {allowed}, not {request.method}."
                refused = error_response(name, MethodNotAllowed(message))
                refused.headers["Allow"] = allowed  # RFC 9110 §15.5.6: a 405 names them
                return refused
            call = Call(self.services, request, Params({}), name)
            if endpoint.authenticated:
                await self._authenticate(call)
            call.params = await Params.read(request, endpoint.body_parameters)
            return await endpoint.handler(call)
        except Exception as error:  # every failure answers in the endpoint's shape
            return error_response(name, error)

    async def _authenticate(self, call: Call) -> None:
        """The acting user, from the credentials the ``auth`` setting accepts (SPEC.md §3)."""
        request = call.request
        mode = self.services.settings.auth
        bearer = _bearer(request)
        if mode == "oauth2" or (mode == "both" and bearer is not None):
            await self._bearer_user(call, bearer)
        else:
            await self._api_key_user(call)
        request.scope.setdefault("state", {})["docrelay_user"] = call.user

    async def _api_key_user(self, call: Call) -> None:
        request = call.request
        key_id = await call.run(self.services.keys.verify, _header(request, "apikey"))
        if key_id is None:
            raise Forbidden("A valid apiKey header is required.")
        user = _header(request, "username")
        if not user:
            raise Forbidden("The username header is required with an API key.")
        call.user = user

    async def _bearer_user(self, call: Call, token: str | None) -> None:
        """A missing, expired or revoked token is 403: Workfront then fetches a new one."""
        user = await call.run(self.services.accounts.tokens.verify_access, token)
        if user is None:
            raise Forbidden("A valid bearer token is required.")
        call.user = user.name
        call.forced_read_only = user.read_only
