"""The catalog's tables (SQLAlchemy Core). Migrations in ``migrations/`` create them."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Every item docrelay has issued an id for: the root, files, folders, reservations.
items = Table(
    "items",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("parent_pk", Integer, ForeignKey("items.pk"), nullable=True),
    # the name in the store, exactly (a local name may not be valid UTF-8)
    Column("name_raw", LargeBinary, nullable=False),
    Column("title", Text, nullable=False),  # the name, NFC
    Column("name_key", Text, nullable=False),  # NFC + case folded: conflicts
    Column("natural", Text, nullable=False),  # natural order key
    Column("folded", Text, nullable=False),  # search form of the name
    Column("stem_folded", Text, nullable=False),  # search form without the extension
    Column("kind", String(8), nullable=False),  # file | folder
    # present | pending (reserved by uploadInit) | gone (left the store) | trashed
    Column("state", String(8), nullable=False),
    Column("size", BigInteger, nullable=False, default=0),
    Column("mtime_ms", BigInteger, nullable=False, default=0),
    Column("etag", Text, nullable=True),
    Column("identity", Text, nullable=True),  # the store's own identity (device:inode)
    Column("ancestry", Text, nullable=False),  # "/pk/pk/" of the ancestors, root first
    Column("wf_document_id", Text, nullable=True),
    Column("wf_version_id", Text, nullable=True),
    Column("trash_id", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("changed_at", Float, nullable=False),  # last change of state
    # a folder's count of changes made through docrelay: a listing taken before one is stale
    Column("generation", BigInteger, nullable=False, default=0),
    Index("ix_items_parent_state", "parent_pk", "state"),
    Index("ix_items_identity", "identity"),
    Index("ix_items_wf_document", "wf_document_id"),
    Index("ix_items_ancestry", "ancestry"),
    Index("ix_items_trash", "trash_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

trash = Table(
    "trash",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("item_pk", Integer, ForeignKey("items.pk"), nullable=False),
    Column("parent_pk", Integer, ForeignKey("items.pk"), nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("deleted_at", Float, nullable=False),
    Column("deleted_by", Text, nullable=False),
)

# Upload temporaries in flight, so that a crash can be swept up at the next start.
temporaries = Table(
    "temporaries",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("folder_pk", Integer, ForeignKey("items.pk"), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # "host pid" of the process writing it (migration 0003)
    Column("holder", Text, nullable=True),
)

server_values = Table(
    "server_values",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- OAuth2 and sign-in (migration 0002) ---------------------------------------------

# People who sign in to docrelay's pages; the name is the acting user for rights.
users = Table(
    "users",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False, unique=True),  # case folded: one user per name
    Column("email", Text, nullable=True),
    Column("password_hash", Text, nullable=False),  # Argon2
    Column("read_only", Boolean, nullable=False),
    Column("session_epoch", String(32), nullable=False),  # changed: every session ends
    Column("failed_count", Integer, nullable=False),
    Column("locked_until", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("password_changed_at", Float, nullable=False),
)

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),  # Argon2
    Column("redirect_uri", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Authorization codes, by the SHA-256 of the code; a used one is kept to detect replays.
oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), ForeignKey("oauth_clients.id"), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("redirect_uri", Text, nullable=True),  # as the request gave it, if it did
    Column("scope", Text, nullable=False),
    Column("code_challenge", Text, nullable=True),
    Column("code_challenge_method", String(16), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
    Column("family", String(32), nullable=True),  # the tokens it was exchanged for
    Index("ix_oauth_codes_user", "user_pk"),
)

# One row per access token and the refresh token issued with it, both as SHA-256. Every
# token issued from one code, refresh after refresh, shares a family.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("pk", Integer, primary_key=True),
    Column("family", String(32), nullable=False),
    Column("client_id", String(64), ForeignKey("oauth_clients.id"), nullable=False),
    Column("user_pk", Integer, ForeignKey("users.pk"), nullable=False),
    Column("access_hash", String(64), nullable=False, unique=True),
    Column("refresh_hash", String(64), nullable=True, unique=True),
    Column("scope", Text, nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("refresh_used_at", Float, nullable=True),  # rotated: using it again is a replay
    Column("revoked_at", Float, nullable=True),
    Index("ix_oauth_tokens_family", "family"),
    Index("ix_oauth_tokens_user", "user_pk"),
)
