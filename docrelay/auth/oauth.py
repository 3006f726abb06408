"""The OAuth2 authorization server of SPEC.md §3, on Authlib's framework-agnostic core.

Authlib validates the requests and runs the grants (authorization code with optional
PKCE, refresh token); docrelay supplies the storage (``docrelay.auth.tokens``), the
clients, the users, and the bridge to Starlette: the HTTP layer reads a request into an
``Incoming`` first, then calls this module off the event loop, since every step here
touches the database or verifies an Argon2 hash.
"""

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.responses import Response

from docrelay.auth.clients import TOKEN_AUTH_METHODS, Client, Clients
from docrelay.auth.tokens import Tokens
from docrelay.auth.users import User, Users

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class Incoming:
    """What the HTTP layer read of a request: its parameters, decoded once (SPEC.md §2)."""

    method: str
    uri: str
    headers: Mapping[str, str]  # case-insensitive, as Starlette's
    query: dict[str, str]
    body: dict[str, str]


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return self._values

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: [value] for key, value in self._values.items()}


class OAuthRequest(OAuth2Request):  # type: ignore[misc]
    """Parameters from the query string and the form body alike; the query wins."""

    def __init__(self, incoming: Incoming, defaults: Mapping[str, str] | None = None) -> None:
        super().__init__(incoming.method, incoming.uri, headers=incoming.headers)
        self.incoming = incoming
        self.values = {**(defaults or {}), **incoming.body, **incoming.query}
        self.payload = _Payload(self.values)

    @property
    def args(self) -> dict[str, str]:
        return self.incoming.query

    @property
    def form(self) -> dict[str, str]:
        # Authlib's grants read code, refresh_token and code_verifier here; Workfront may
        # send them in the query string as well as in the body.
        return self.values


def _authenticate(query_client: Any, client_id: str | None, secret: str | None) -> Any:
    if not client_id or not secret:
        return None
    client = query_client(client_id)
    if client is None or not client.check_client_secret(secret):
        return None
    return client


def _client_secret_basic(query_client: Any, request: OAuthRequest) -> Any:
    return _authenticate(query_client, *extract_basic_authorization(request.headers))


def _client_secret_post(query_client: Any, request: OAuthRequest) -> Any:
    body = request.incoming.body
    return _authenticate(query_client, body.get("client_id"), body.get("client_secret"))


def _client_secret_query(query_client: Any, request: OAuthRequest) -> Any:
    query = request.incoming.query
    return _authenticate(query_client, query.get("client_id"), query.get("client_secret"))


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_AUTH_METHODS)

    def save_authorization_code(self, code: str, request: OAuthRequest) -> None:
        data = request.payload.data
        self.server.tokens.save_code(
            code,
            {
                "client_id": request.client.id,
                "user_pk": request.user.pk,
                "redirect_uri": data.get("redirect_uri"),
                "scope": request.scope or "",
                "code_challenge": data.get("code_challenge"),
                "code_challenge_method": data.get("code_challenge_method"),
            },
        )

    def query_authorization_code(self, code: str, client: Client) -> Any:
        return self.server.tokens.claim_code(code, client.id)

    def delete_authorization_code(self, authorization_code: Any) -> None:
        """Nothing to do: ``query_authorization_code`` claimed the code for good."""

    def authenticate_user(self, authorization_code: Any) -> User | None:
        user: User | None = self.server.users.get(authorization_code.user_pk)
        return user


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(TOKEN_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Any:
        return self.server.tokens.claim_refresh(refresh_token, self.request.client.id)

    def authenticate_user(self, refresh_token: Any) -> User | None:
        user: User | None = self.server.users.get(refresh_token.user_pk)
        return user

    def revoke_old_credential(self, refresh_token: Any) -> None:
        """Nothing to do: ``authenticate_refresh_token`` rotated it when it claimed it."""


@dataclass(frozen=True)
class Consent:
    """A valid authorization request, waiting for the user's decision."""

    request: OAuthRequest
    grant: Any
    client: Client


class OAuthServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self, users: Users, clients: Clients, tokens: Tokens, default_client: str | None
    ) -> None:
        super().__init__()
        # Authlib logs every token it issues at DEBUG: never let that reach a log.
        logging.getLogger("authlib").setLevel(logging.INFO)
        self.users = users
        self.clients = clients
        self.tokens = tokens
        self.default_client = default_client
        generator = BearerTokenGenerator(
            tokens.new_access_token,
            tokens.new_refresh_token,
            lambda _client, _grant_type: tokens.access_seconds,
        )
        self.register_token_generator("default", generator)
        self.register_client_auth_method("client_secret_basic", _client_secret_basic)
        self.register_client_auth_method("client_secret_post", _client_secret_post)
        self.register_client_auth_method("client_secret_query", _client_secret_query)
        self.register_grant(_CodeGrant, [CodeChallenge(required=False)])
        self.register_grant(_RefreshGrant)

    # -- what Authlib asks of an integration ----------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuthRequest) -> None:
        origin = request.refresh_token or request.authorization_code
        self.tokens.save(token, request.client.id, request.user.pk, origin.family)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """docrelay listens to no signal."""

    def create_oauth2_request(self, request: Any) -> OAuthRequest:
        return request if isinstance(request, OAuthRequest) else OAuthRequest(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("docrelay serves no JSON endpoint through Authlib")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else body or b""
        response = Response(content, status_code=status, headers=dict(headers))
        response.headers.update(_NO_STORE)
        return response

    # -- the two endpoints ---------------------------------------------------------------

    def validate(self, incoming: Incoming) -> Consent:
        """The consent an authorization request asks for; an ``OAuth2Error`` if invalid.

        Workfront may send nothing but ``state``: the client is then the default one and
        the response type ``code``; the redirect URI is the client's own.
        """
        defaults = {"response_type": "code"}
        if not incoming.query.get("client_id"):
            default = self.clients.default(self.default_client)
            if default is None:
                raise InvalidRequestError(
                    "The request names no client_id, and there is no default client."
                )
            defaults["client_id"] = default.id
        request = OAuthRequest(incoming, defaults)
        grant = self.get_consent_grant(request)
        return Consent(request, grant, grant.request.client)

    def decide(self, consent: Consent, user: User | None) -> Response:
        """Redirect to the client with a code, or with ``access_denied`` without a user."""
        response: Response = self.create_authorization_response(
            consent.request, grant_user=user, grant=consent.grant
        )
        return response

    def error_redirect(self, error: OAuth2Error) -> Response | None:
        """The redirect that reports an error to the client, if its redirect URI is known."""
        if not error.redirect_uri:
            return None
        response: Response = self.handle_response(*error())
        return response

    def token(self, incoming: Incoming) -> Response:
        request = OAuthRequest(incoming)
        if not request.values.get("grant_type"):
            missing = InvalidRequestError("The parameter 'grant_type' is required.")
            response: Response = self.handle_error_response(request, missing)
            return response
        response = self.create_token_response(request)
        return response
