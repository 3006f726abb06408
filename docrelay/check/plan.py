"""The steps in the order of Workfront's manual test plan, and the run of them."""

import secrets
from collections.abc import Callable

from docrelay.check import browse, content, oauth, writes
from docrelay.check.logins import ApiKeyLogin, OAuthLogin
from docrelay.check.runner import Result, Step, run_steps
from docrelay.check.state import Scratch, State
from docrelay.check.target import Http, Target

_Step = Step[State]


def _oauth_steps() -> list[_Step]:
    return [
        _Step(
            "oauth_authorize", "OAuth2 sign-in and consent", oauth.sign_in_and_consent, ("reach",)
        ),
        _Step("oauth_token", "OAuth2 code for tokens", oauth.exchange_code, ("oauth_authorize",)),
    ]


def _read_steps(auth: str) -> list[_Step]:
    return [
        _Step("auth", "authentication", browse.authentication, (auth,)),
        _Step("root", "root listing", browse.root_listing, ("auth",)),
        _Step("browse", "browse a folder", browse.browse, ("root",)),
        _Step("metadata", "metadata", browse.metadata, ("root",)),
        _Step("links", "viewLink and downloadLink", content.links, ("metadata",)),
        _Step("search", "search", content.search, ("root",)),
        _Step("thumbnail", "thumbnail", content.thumbnail, ("root",)),
        _Step("download", "download", content.download, ("root",)),
        _Step("range", "ranged download", content.ranged, ("download",)),
    ]


def _write_steps() -> list[_Step]:
    return [
        _Step("create_folder", "createFolder", writes.create_folder, ("auth",)),
        _Step("upload_init", "uploadInit", writes.upload_init, ("create_folder",)),
        _Step("upload", "upload", writes.upload, ("upload_init",)),
        _Step("read_back", "uploaded file read back", writes.read_back, ("upload",)),
        _Step("rename", "rename", writes.rename, ("upload_init",)),
        _Step("delete_file", "delete the file", writes.delete_file, ("upload_init",)),
        _Step("delete_folder", "delete the folder", writes.delete_folder, ("create_folder",)),
        _Step("clean_up", "clean up", writes.clean_up, always=True),
    ]


def steps_for(login: ApiKeyLogin | OAuthLogin, write: bool) -> list[_Step]:
    plan = [
        _Step("reach", "reachability and TLS", browse.reach),
        _Step("service_info", "serviceInfo", browse.service_info, ("reach",)),
    ]
    oauth2 = isinstance(login, OAuthLogin)
    if oauth2:
        plan += _oauth_steps()
    plan += _read_steps("oauth_token" if oauth2 else "reach")
    if write:
        plan += _write_steps()
    if oauth2:  # last: a refresh token used twice ends the connection
        plan.append(_Step("oauth_refresh", "OAuth2 refresh", oauth.refresh, ("oauth_token",)))
    return plan


def run_check(
    url: str,
    login: ApiKeyLogin | OAuthLogin,
    *,
    write: bool = False,
    timeout: float = 10.0,
    report: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Every step against ``url`` (the public URL or the Base API URL)."""
    target = Target.parse(url)
    state = State(target, login, Http(target, timeout), Http(target, timeout), write=write)
    if write:
        tag = secrets.token_hex(4)
        content = f"docrelay check {tag}\n".encode()
        state.scratch = Scratch(f"docrelay-check-{tag}", f"docrelay-check-{tag}.txt", content)
    try:
        return run_steps(steps_for(login, write), state, report)
    finally:
        state.http.close()
        state.browser.close()
