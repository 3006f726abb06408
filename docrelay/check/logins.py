"""The credentials the check is given: an API key, or an OAuth2 client and user.

Kept apart from the HTTP parts so that the command can be registered without them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiKeyLogin:
    api_key: str
    username: str

    def __repr__(self) -> str:  # never the key
        return f"ApiKeyLogin(username={self.username!r})"


@dataclass(frozen=True)
class OAuthLogin:
    client_id: str
    client_secret: str
    user: str
    password: str
    redirect_uri: str

    def __repr__(self) -> str:  # never the secret or the password
        return f"OAuthLogin(client_id={self.client_id!r}, user={self.user!r})"
