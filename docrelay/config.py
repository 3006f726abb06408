"""Settings: one typed model fed by defaults, a TOML file, DOCRELAY_* variables and the CLI.

Later sources win: command line over environment over file over default. ``load_settings``
also says where each value came from, for the start-up log.
"""

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from docrelay.store.options import StoreOptions

ENV_PREFIX = "DOCRELAY_"
Access = Literal["read-write", "read-only"]
RuleAccess = Literal["read-write", "read-only", "none"]


class AccessRule(BaseModel):
    """Users whose name matches ``users`` (shell-style pattern, case-insensitive) get ``access``."""

    model_config = ConfigDict(extra="forbid")
    users: str = Field(description="A user-name pattern such as `*@example.com`.")
    access: RuleAccess = Field(
        description="`read-write`, `read-only`, or `none` (the root is hidden from them)."
    )
    roots: list[str] | None = Field(
        None, description="The names of the roots the rule is for (default: every root)."
    )


class RootSetting(BaseModel):
    """One named root: a folder or store URL shown as a top-level folder."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="The folder name Workfront shows for this root.")
    url: str = Field(description="A folder path or a store URL such as `s3://bucket/prefix`.")
    options: Annotated[dict[str, Any], AfterValidator(StoreOptions)] = Field(
        default_factory=StoreOptions,
        description="Store options (endpoint, region, credentials); never logged in clear.",
    )


class CustomActionSetting(BaseModel):
    """A custom action that Workfront offers on documents."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="The action's name in Workfront's calls.")
    display_name: str = Field(description="The label Workfront shows.")
    handler: str = Field(description="A Python callable, `module:function`.")


ARCHIVE_ACTION = CustomActionSetting(
    name="archive", display_name="Archive", handler="docrelay.actions:archive"
)


class Settings(BaseSettings):
    """Every setting of docrelay, with its default and meaning."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    root: str = Field(
        "./documents", description="The folder (or store URL) to serve when `roots` is empty."
    )
    root_options: Annotated[dict[str, Any], AfterValidator(StoreOptions)] = Field(
        default_factory=StoreOptions,
        description="Options of the `root` store: endpoint, region, credentials (see "
        "Stores); secret-looking values are never logged.",
    )
    host: str = Field("127.0.0.1", description="The address to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="The port to listen on (0: any free).")
    public_url: str | None = Field(
        None,
        description="The externally visible origin, e.g. `https://docs.example.com`; "
        "default `http://{host}:{port}`.",
    )
    data_dir: Path = Field(
        Path("./docrelay-data"),
        description="Where the catalog, thumbnail cache and server secrets live.",
    )
    database_url: str | None = Field(
        None, description="An SQLAlchemy URL for the catalog; default SQLite in the data folder."
    )
    api_key: SecretStr | None = Field(
        None,
        description="An API key accepted besides those made with `docrelay keys create`.",
    )
    roots: list[RootSetting] = Field(
        default_factory=list,
        description="Several named roots, shown as top-level folders; replaces `root`.",
    )
    display_name: str = Field("Documents", description="The title of the root folder.")
    on_conflict: Literal["rename", "fail"] = Field(
        "rename", description="A taken name: `rename` picks `name (1).ext`, `fail` answers 409."
    )
    max_upload_bytes: int = Field(
        10 * 1024**3, ge=0, description="The largest upload accepted, in bytes (413 above)."
    )
    trash_retention_days: float = Field(
        30, ge=0, description="How long deleted items stay recoverable in the trash."
    )
    default_access: Access = Field(
        "read-write", description="The access of a user whom no `access` rule matches."
    )
    access: list[AccessRule] = Field(
        default_factory=list,
        description="Rules from user-name patterns (and roots) to access; the first match wins.",
    )
    custom_actions: list[CustomActionSetting] = Field(
        default_factory=lambda: [ARCHIVE_ACTION],
        description="The custom actions offered to Workfront (default: the built-in `archive`).",
    )
    archive_folder: str = Field(
        "Archive", description="The folder, under the root, where `archive` moves documents."
    )
    crawl_interval: float = Field(
        10,
        ge=0,
        description="Seconds between crawls that catalogue changes made behind "
        "docrelay's back (0: never).",
    )
    watch: bool = Field(True, description="Follow file-system events of a local root.")
    accel_redirect: str | None = Field(
        None,
        description="The path of an nginx `internal` location that serves the root folder, "
        "e.g. `/.docrelay-files/`: downloads are authorised by docrelay and sent by nginx "
        "(`X-Accel-Redirect`; local roots only; docs/deploy.md).",
    )
    listing_cache_items: int = Field(
        50_000,
        ge=0,
        description="Children of recent folder listings kept in memory, about 2 KiB each, "
        "answered again while nothing changed (0: list every time; see docs/performance.md).",
    )
    thumbnail_concurrency: int = Field(2, ge=1, description="Thumbnails rendered at once.")
    thumbnail_max_pixels: int = Field(
        64_000_000, ge=1, description="Larger images get an icon instead of a preview."
    )
    link_secret: SecretStr | None = Field(
        None,
        description="The key that signs viewLink and downloadLink; default a random one kept "
        "in the data folder. Changing it breaks every link Workfront has stored.",
    )
    publisher: str = Field("docrelay", description="The publisher named by /serviceInfo.")
    auth: Literal["apikey", "oauth2", "both"] = Field(
        "apikey",
        description="The credentials the API accepts: `apikey` (the apiKey and username "
        "headers), `oauth2` (bearer tokens from /oauth/token) or `both`.",
    )
    links: Literal["signed", "sign-in"] | None = Field(
        None,
        description="What opens viewLink and downloadLink: `signed` (the link alone) or "
        "`sign-in` (a docrelay sign-in); default `sign-in` when `auth` is `oauth2`, "
        "else `signed`.",
    )
    oauth_default_client: str | None = Field(
        None,
        description="The OAuth2 client id an authorization request without `client_id` is "
        "for; default the only client registered, if there is exactly one.",
    )
    oauth_access_token_seconds: int = Field(
        3600, ge=1, description="How long an OAuth2 access token is valid, in seconds."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="The least severe log level written."
    )
    metrics: bool = Field(
        True, description="Serve Prometheus metrics at `/metrics` (see Monitoring)."
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="If set, `/metrics` answers only `Authorization: Bearer <token>`.",
    )
    readiness_timeout: float = Field(
        2, gt=0, description="Seconds `/readyz` waits for the catalog and for each store."
    )
    audit_log: str = Field(
        "audit.log",
        description="Where the audit log goes: a file (relative to the data folder), `-` for "
        "standard output, or `none`.",
    )
    audit_log_max_bytes: int = Field(
        10 * 1024**2, ge=0, description="The audit file's size at which it is rotated (0: never)."
    )
    audit_log_backups: int = Field(
        5, ge=0, description="How many rotated audit files are kept (`audit.log.1`, …)."
    )
    audit_thumbnails: bool = Field(
        False, description="Audit thumbnails too (Workfront fetches one per document listed)."
    )

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("accel_redirect")
    @classmethod
    def _a_location(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith("/") or any(char in value for char in "?#%\\ \t\r\n"):
            raise ValueError("accel_redirect must be a path such as /.docrelay-files/")
        return value if value.endswith("/") else value + "/"

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def link_mode(self) -> Literal["signed", "sign-in"]:
        """``links`` as set, or as implied by ``auth``."""
        if self.links is not None:
            return self.links
        return "sign-in" if self.auth == "oauth2" else "signed"

    def catalog_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'catalog.sqlite3').resolve()}"


class _DictSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


def read_config_file(path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        values = tomllib.load(handle)
    return {key.replace("-", "_"): value for key, value in values.items()}


def load_settings(
    cli: dict[str, Any] | None = None, config_file: Path | None = None
) -> tuple[Settings, dict[str, str]]:
    """The settings, and for each one where its value came from."""
    given = {key: value for key, value in (cli or {}).items() if value is not None}
    config_file = config_file or _env_config_file()
    from_file = read_config_file(config_file) if config_file else {}

    class _Loaded(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (
                _DictSource(settings_cls, given),
                env_settings,
                _DictSource(settings_cls, from_file),
            )

    loaded = _Loaded()
    settings = Settings.model_validate(
        {name: getattr(loaded, name) for name in Settings.model_fields}
    )
    origins = {}
    for name in Settings.model_fields:
        if name in given:
            origins[name] = "command line"
        elif ENV_PREFIX + name.upper() in os.environ:
            origins[name] = f"environment {ENV_PREFIX}{name.upper()}"
        elif name in from_file:
            origins[name] = f"file {config_file}"
        else:
            origins[name] = "default"
    return settings, origins


def _env_config_file() -> Path | None:
    value = os.environ.get(ENV_PREFIX + "CONFIG")
    return Path(value) if value else None


def _default_text(name: str) -> str:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
        if name == "custom_actions":
            return "the built-in `archive`"
        return "none" if not value else repr(value)
    default = field.default
    if name == "links":
        return "by `auth`"
    if default is None:
        return "none"
    if isinstance(default, Path):
        return f"`{default}`"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def settings_reference() -> str:
    """The settings as a Markdown table: the README's reference is checked against it."""
    lines = [
        "| setting (TOML) | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        env = f"`{ENV_PREFIX}{name.upper()}`"
        lines.append(f"| `{name}` | {env} | {_default_text(name)} | {field.description or ''} |")
    return "\n".join(lines)
