"""What the steps share: the target, the clients, and what they learn on the way."""

from dataclasses import dataclass, field
from typing import Any

import httpx

from docrelay.check.logins import ApiKeyLogin, OAuthLogin
from docrelay.check.target import Http, Target, json_of

Item = dict[str, Any]


@dataclass(repr=False)  # never shown
class Tokens:
    access: str
    refresh: str


@dataclass
class Scratch:
    """The folder (and file) that the write steps make and must remove again."""

    folder_name: str
    file_name: str
    content: bytes
    folder_id: str | None = None
    file_id: str | None = None
    removed: bool = False


@dataclass
class State:
    target: Target
    login: ApiKeyLogin | OAuthLogin
    http: Http  # Workfront's servers
    browser: Http  # a user's browser: keeps its cookies
    write: bool = False
    # the acting user's credentials, the OAuth2 code until it is exchanged, the tokens
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    code: str | None = field(default=None, repr=False)
    tokens: Tokens | None = field(default=None, repr=False)
    root: list[Item] = field(default_factory=list)
    folder: Item | None = None
    folder_items: list[Item] = field(default_factory=list)
    item: Item | None = None  # the listed item /metadata is asked about
    metadata: Item | None = None
    scratch: Scratch | None = None

    def call(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.target.api}/{endpoint}", headers=headers, **kwargs)

    def ok(self, method: str, endpoint: str, what: str, **kwargs: Any) -> Any:
        """The JSON of a 200 answer; anything else fails the step with its reason."""
        response = self.http.expect(self.call(method, endpoint, **kwargs), 200, what)
        return json_of(response, what)

    def listed(self) -> list[Item]:
        return [*self.root, *self.folder_items]

    def smallest_file(self) -> Item | None:
        files = [item for item in self.listed() if item.get("kind") == "file"]
        sizes = [item for item in files if isinstance(item.get("size"), int)]
        return min(sizes, key=lambda item: int(item["size"])) if sizes else None
