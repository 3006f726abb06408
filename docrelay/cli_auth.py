"""``docrelay users``, ``docrelay clients`` and ``docrelay tokens``: who signs in, which
OAuth2 clients may ask for tokens, and the tokens granted. Each works on the catalog the
server uses (``--config``, ``--data-dir``, ``DOCRELAY_*``), on every instance at once."""

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from docrelay.config import Settings, load_settings
from docrelay.errors import DocrelayError

if TYPE_CHECKING:
    from docrelay.auth.clients import Clients
    from docrelay.auth.tokens import Tokens
    from docrelay.auth.users import Users

users_app = typer.Typer(help="The people who sign in to docrelay.", no_args_is_help=True)
clients_app = typer.Typer(
    help="OAuth2 clients (Workfront) that may ask for tokens.", no_args_is_help=True
)
tokens_app = typer.Typer(help="The OAuth2 tokens granted to clients.", no_args_is_help=True)

out = Console(width=None if sys.stdout.isatty() else 400)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="A TOML settings file.", exists=True, dir_okay=False)
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the catalog and secrets live.")
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def _settings(config: Path | None, data_dir: Path | None) -> Settings:
    try:
        settings, _origins = load_settings({"data_dir": data_dir}, config)
    except ValidationError as error:
        typer.echo(f"docrelay: the settings are not valid:\n{error}", err=True)
        raise typer.Exit(2) from None
    return settings


@dataclass(frozen=True)
class _Parts:
    users: "Users"
    clients: "Clients"
    tokens: "Tokens"
    settings: Settings


def _parts(config: Path | None, data_dir: Path | None) -> _Parts:
    """Users, clients and tokens on the migrated catalog."""
    from docrelay.auth.clients import Clients
    from docrelay.auth.tokens import Tokens
    from docrelay.auth.users import Users
    from docrelay.catalog.db import Database

    settings = _settings(config, data_dir)
    database = Database(settings.catalog_url())
    database.migrate()
    tokens = Tokens(database, settings.oauth_access_token_seconds)
    return _Parts(Users(database), Clients(database), tokens, settings)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"docrelay: {message}", err=True)
    return typer.Exit(1)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _when(moment: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment)) if moment else ""


# --- users ---------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name, the acting user for rights.")],
    email: Annotated[str | None, typer.Option(help="The user's e-mail address.")] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Read-only, whatever the access rules say.")
    ] = False,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a user who signs in with a password (asked for, or read with --password-stdin)."""
    users = _parts(config, data_dir).users
    try:
        user = users.add(name, _password(password_stdin), email, read_only)
    except DocrelayError as error:
        raise _fail(error.message) from None
    typer.echo(f"Added user {user.name!r}{' (read-only)' if user.read_only else ''}.")


@users_app.command("list")
def users_list(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """The users, never their passwords."""
    users = _parts(config, data_dir).users
    table = Table("name", "e-mail", "read-only", "created", "locked until")
    for user in users.list():
        locked = _when(user.locked_until) if user.locked() else ""
        table.add_row(
            user.name,
            user.email or "",
            "yes" if user.read_only else "",
            _when(user.created_at),
            locked,
        )
    out.print(table)


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The user name.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Remove a user, with every token granted for them and every session."""
    users = _parts(config, data_dir).users
    if not users.remove(name):
        raise _fail(f"there is no user {name!r}.")
    typer.echo(f"Removed user {name!r}.")


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user name.")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set a user's password; it unlocks the account and ends its browser sessions."""
    users = _parts(config, data_dir).users
    if users.find(name) is None:
        raise _fail(f"there is no user {name!r}.")
    try:
        users.set_password(name, _password(password_stdin))
    except DocrelayError as error:
        raise _fail(error.message) from None
    typer.echo(
        f"Changed the password of {name!r}. Tokens stay: `docrelay tokens revoke` ends them."
    )


# --- clients -------------------------------------------------------------------------------


@clients_app.command("add")
def clients_add(
    redirect_uri: Annotated[
        str,
        typer.Option("--redirect-uri", help="Workfront's Redirect URI, exactly as it shows it."),
    ],
    name: Annotated[str, typer.Option(help="The name the consent page shows.")] = "Workfront",
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Register an OAuth2 client; its id and secret are printed once."""
    parts = _parts(config, data_dir)
    clients, settings = parts.clients, parts.settings
    try:
        client, secret = clients.add(name, redirect_uri)
    except DocrelayError as error:
        raise _fail(error.message) from None
    base = settings.base_url()
    typer.echo(
        f"Registered the OAuth2 client {client.name!r}. The secret is shown once; keep it now.\n"
        f"In Workfront's custom integration (Authentication type OAuth2):\n"
        f"  Client ID:           {client.id}\n"
        f"  Client Secret:       {secret}\n"
        f"  Authentication URL:  {base}/oauth/authorize\n"
        f"  Token Endpoint URL:  {base}/oauth/token\n"
        f"  Redirect URI:        {client.redirect_uri}"
    )
    if settings.auth == "apikey":
        typer.echo("The server accepts OAuth2 only with the setting auth = 'oauth2' or 'both'.")


@clients_app.command("list")
def clients_list(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """The clients (never their secrets)."""
    clients = _parts(config, data_dir).clients
    table = Table("client id", "name", "redirect URI", "created")
    for client in clients.list():
        table.add_row(client.id, client.name, client.redirect_uri, _when(client.created_at))
    out.print(table)


@clients_app.command("remove")
def clients_remove(
    client_id: Annotated[str, typer.Argument(help="The client id, from `clients list`.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Remove a client and every token granted to it."""
    clients = _parts(config, data_dir).clients
    if not clients.remove(client_id):
        raise _fail(f"there is no client {client_id!r}.")
    typer.echo(f"Removed client {client_id}.")


# --- tokens --------------------------------------------------------------------------------


@tokens_app.command("list")
def tokens_list(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """The tokens still usable: who, for which client, since and until when."""
    tokens = _parts(config, data_dir).tokens
    table = Table("user", "client", "issued", "access token expires")
    for info in tokens.active():
        table.add_row(info.user, info.client, _when(info.issued_at), _when(info.expires_at))
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    user: Annotated[str, typer.Option("--user", help="The user whose tokens end.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke every token of a user at once; Workfront asks them to connect again."""
    parts = _parts(config, data_dir)
    users, tokens = parts.users, parts.tokens
    found = users.find(user)
    if found is None:
        raise _fail(f"there is no user {user!r}.")
    count = tokens.revoke_user(found.pk)
    typer.echo(f"Revoked {count} grant(s) of {found.name!r}.")
