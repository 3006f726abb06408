"""The ``docrelay check`` command: its options, their validation (exit status 2), and
the output (exit status 1 on any failed step)."""

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from docrelay.check.logins import ApiKeyLogin, OAuthLogin

_CREDENTIALS = (
    "give --api-key and --username (ApiKey), or --client-id, --client-secret, --user and "
    "--redirect-uri (OAuth2)"
)

Opt = typer.Option


def _bad(message: str) -> typer.Exit:
    typer.echo(f"docrelay check: {message}", err=True)
    return typer.Exit(2)


def _password(user: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt(f"Password of {user}", hide_input=True)
    return password


def _login(
    api_key: str | None,
    username: str | None,
    oauth: dict[str, str | None],
    password_stdin: bool,
) -> ApiKeyLogin | OAuthLogin:
    given = [f"--{name.replace('_', '-')}" for name, value in oauth.items() if value]
    if api_key is not None:
        if given or password_stdin:
            raise _bad(f"{', '.join(given) or '--password-stdin'} goes with OAuth2, not --api-key")
        if not username:
            raise _bad("--api-key needs --username (the Workfront user name, the acting user)")
        return ApiKeyLogin(api_key, username)
    if not given:
        raise _bad(_CREDENTIALS)
    missing = [f"--{name.replace('_', '-')}" for name, value in oauth.items() if not value]
    if missing:
        raise _bad(f"OAuth2 also needs {', '.join(missing)}")
    user = str(oauth["user"])
    return OAuthLogin(
        str(oauth["client_id"]),
        str(oauth["client_secret"]),
        user,
        _password(user, password_stdin),
        str(oauth["redirect_uri"]),
    )


def check(
    url: Annotated[
        str, typer.Argument(help="The public URL or the Base API URL (with or without /api).")
    ],
    api_key: Annotated[str | None, Opt("--api-key", help="An API key (ApiKey mode).")] = None,
    username: Annotated[
        str | None, Opt("--username", help="The Workfront user name sent with the key.")
    ] = None,
    client_id: Annotated[str | None, Opt("--client-id", help="The OAuth2 client id.")] = None,
    client_secret: Annotated[
        str | None, Opt("--client-secret", help="The OAuth2 client secret.")
    ] = None,
    user: Annotated[str | None, Opt("--user", help="The docrelay user who signs in.")] = None,
    password_stdin: Annotated[
        bool, Opt("--password-stdin", help="Read the user's password from standard input.")
    ] = False,
    redirect_uri: Annotated[
        str | None, Opt("--redirect-uri", help="The client's registered Redirect URI.")
    ] = None,
    write: Annotated[
        bool, Opt("--write", help="Also create, upload, rename and delete in a scratch folder.")
    ] = False,
    as_json: Annotated[bool, Opt("--json", help="Print the results as JSON.")] = False,
    timeout: Annotated[float, Opt("--timeout", help="Seconds to wait for each answer.")] = 10.0,
) -> None:
    """Play Workfront's test plan against a deployment, before registering it."""
    oauth = {
        "client_id": client_id,
        "client_secret": client_secret,
        "user": user,
        "redirect_uri": redirect_uri,
    }
    try:
        from docrelay.check.plan import run_check
        from docrelay.check.report import as_json as json_report
        from docrelay.check.report import print_table
        from docrelay.check.target import Target
    except ImportError as error:  # httpx is what a server does not need
        raise _bad(f"{error.name} is missing: pip install httpx") from None
    try:
        target = Target.parse(url)
    except ValueError as error:
        raise _bad(str(error)) from None
    if timeout <= 0:
        raise _bad("--timeout must be a positive number of seconds")
    login = _login(api_key, username, oauth, password_stdin)
    results = run_check(url, login, write=write, timeout=timeout)
    auth = "apikey" if isinstance(login, ApiKeyLogin) else "oauth2"
    if as_json:
        typer.echo(json.dumps(json_report(results, target.api, auth, write), indent=2))
    else:
        print_table(results, target.api, Console(width=None if sys.stdout.isatty() else 200))
    if any(result.status == "fail" for result in results):
        raise typer.Exit(1)
