"""The ``docrelay`` command: serve, keys, users, clients, tokens, trash, index."""

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from docrelay import __version__
from docrelay.check.command import check
from docrelay.cli_auth import clients_app, tokens_app, users_app
from docrelay.config import Settings, load_settings
from docrelay.errors import DocrelayError

app = typer.Typer(help="docrelay: a document provider for Adobe Workfront.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for Workfront's ApiKey authentication.", no_args_is_help=True)
trash_app = typer.Typer(
    help="Deleted items, recoverable until the retention passes.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(trash_app, name="trash")
app.add_typer(users_app, name="users")
app.add_typer(clients_app, name="clients")
app.add_typer(tokens_app, name="tokens")
app.command("check")(check)

log = logging.getLogger("docrelay.cli")
out = Console(width=None if sys.stdout.isatty() else 400)  # piped: no wrapped ids

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="A TOML settings file.", exists=True, dir_okay=False)
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the catalog and secrets live.")
]
RootOption = Annotated[str | None, typer.Option("--root", help="The folder to serve.")]


def _settings(config: Path | None, **cli: Any) -> tuple[Settings, dict[str, str]]:
    from pydantic import ValidationError

    try:
        return load_settings(cli, config)
    except ValidationError as error:
        typer.echo(f"docrelay: the settings are not valid:\n{error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    root: RootOption = None,
    host: Annotated[str | None, typer.Option(help="The address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="The port (0: any free one).")] = None,
    public_url: Annotated[
        str | None, typer.Option("--public-url", help="The externally visible origin.")
    ] = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve a folder to Workfront (default: ./documents)."""
    from docrelay.serve import run

    settings, origins = _settings(
        config, root=root, host=host, port=port, public_url=public_url, data_dir=data_dir
    )
    try:
        run(settings, origins)
    except (DocrelayError, OSError) as error:
        typer.echo(f"docrelay: cannot start: {error}", err=True)
        raise typer.Exit(1) from None


def _key_ring(config: Path | None, data_dir: Path | None) -> Any:
    from docrelay.auth.apikeys import KeyRing
    from docrelay.catalog.db import Database

    settings, _origins = _settings(config, data_dir=data_dir)
    database = Database(settings.catalog_url())
    database.migrate()
    return KeyRing(database)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")] = "Workfront",
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Make a new API key; it is printed once and only its hash is kept."""
    info, key = _key_ring(config, data_dir).create(name)
    typer.echo(f"Created key {info.id} ({info.name}). It is shown once; keep it now:")
    typer.echo(key)


@keys_app.command("list")
def keys_list(config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """The keys made so far (never the keys themselves)."""
    table = Table("id", "name", "created", "revoked")
    for info in _key_ring(config, data_dir).list():
        revoked = _when(info.revoked_at) if info.revoked_at else ""
        table.add_row(info.id, info.name, _when(info.created_at), revoked)
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, from `keys list`.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a key at once, on every running instance."""
    if not _key_ring(config, data_dir).revoke(key_id):
        typer.echo(f"docrelay: no active key has the id {key_id!r}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked key {key_id}.")


def _catalog(config: Path | None, data_dir: Path | None, root: str | None) -> Any:
    from docrelay.app import build_services

    settings, _origins = _settings(config, data_dir=data_dir, root=root)
    # a command lists a folder once: keeping listings (and their file-event watches) is moot
    once = settings.model_copy(update={"listing_cache_items": 0})
    return build_services(once).catalog, settings


@trash_app.command("list")
def trash_list(
    config: ConfigOption = None, data_dir: DataDirOption = None, root: RootOption = None
) -> None:
    """What is in the trash."""
    from docrelay.catalog.trash import Trash

    catalog, _unused = _catalog(config, data_dir, root)
    table = Table("trash id", "item id", "name", "kind", "deleted", "by")
    for entry in Trash(catalog).entries():
        table.add_row(
            entry.id,
            entry.item_id,
            entry.title,
            entry.kind,
            _when(entry.deleted_at),
            entry.deleted_by,
        )
    out.print(table)


@trash_app.command("restore")
def trash_restore(
    trash_id: Annotated[str, typer.Argument(help="The trash id, from `trash list`.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    root: RootOption = None,
) -> None:
    """Put a deleted item back where it was, with its old id."""
    from docrelay.catalog.trash import Trash

    catalog, _unused = _catalog(config, data_dir, root)
    try:
        item = Trash(catalog).restore(trash_id)
    except DocrelayError as error:
        typer.echo(f"docrelay: {error.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Restored {item.title!r} (id {item.id}).")


@trash_app.command("purge")
def trash_purge(
    everything: Annotated[bool, typer.Option("--all", help="Purge everything now.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    root: RootOption = None,
) -> None:
    """Remove for good what passed the retention (or, with --all, everything)."""
    from docrelay.catalog.trash import Trash

    catalog, settings = _catalog(config, data_dir, root)
    cutoff = None if everything else time.time() - settings.trash_retention_days * 86400
    purged = Trash(catalog).purge(cutoff)
    typer.echo(f"Purged {purged} item(s).")


@app.command()
def index(
    config: ConfigOption = None, data_dir: DataDirOption = None, root: RootOption = None
) -> None:
    """Catalogue the whole store once (for search), e.g. before the first start."""
    from docrelay.crawler import Crawler

    catalog, settings = _catalog(config, data_dir, root)
    started = time.monotonic()
    folders = Crawler(catalog, 0, settings.trash_retention_days).crawl()
    typer.echo(
        f"Catalogued {catalog.subtree_count()} items in {folders} folders "
        f"in {time.monotonic() - started:.1f}s."
    )


@app.command()
def version() -> None:
    """Print docrelay's version."""
    typer.echo(__version__)


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


def main() -> None:
    app()
