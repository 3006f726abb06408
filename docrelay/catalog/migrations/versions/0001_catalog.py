"""The first catalog: items, API keys, trash, temporaries, server values, search index.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

from docrelay.catalog.db import CatalogSetupError

revision = "0001"
down_revision = None

# On PostgreSQL the names compare by code point, as SPEC.md orders them (ties "by code
# point", the natural-order key), whatever the database's own collation; SQLite compares
# bytes already, and UTF-8 bytes sort as code points.
_CODE_POINTS = "C"


def _text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation=_CODE_POINTS), "postgresql")


def _string(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation=_CODE_POINTS), "postgresql")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("id", _string(64), nullable=False, unique=True),
        sa.Column("parent_pk", sa.Integer, sa.ForeignKey("items.pk"), nullable=True),
        sa.Column("name_raw", sa.LargeBinary, nullable=False),
        sa.Column("title", _text(), nullable=False),
        sa.Column("name_key", _text(), nullable=False),
        sa.Column("natural", _text(), nullable=False),
        sa.Column("folded", _text(), nullable=False),
        sa.Column("stem_folded", _text(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ms", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("identity", sa.Text, nullable=True),
        sa.Column("ancestry", _text(), nullable=False),
        sa.Column("wf_document_id", sa.Text, nullable=True),
        sa.Column("wf_version_id", sa.Text, nullable=True),
        sa.Column("trash_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
        sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_items_parent_state", "items", ["parent_pk", "state"])
    op.create_index("ix_items_identity", "items", ["identity"])
    op.create_index("ix_items_wf_document", "items", ["wf_document_id"])
    op.create_index("ix_items_ancestry", "items", ["ancestry"])
    op.create_index("ix_items_trash", "items", ["trash_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_table(
        "trash",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("item_pk", sa.Integer, sa.ForeignKey("items.pk"), nullable=False),
        sa.Column("parent_pk", sa.Integer, sa.ForeignKey("items.pk"), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("deleted_at", sa.Float, nullable=False),
        sa.Column("deleted_by", sa.Text, nullable=False),
    )
    op.create_table(
        "temporaries",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("folder_pk", sa.Integer, sa.ForeignKey("items.pk"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "server_values",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_search_index()
    elif dialect == "postgresql":
        # the root is inserted with pk 1 (ROOT_PK); the sequence must not hand it out again
        op.execute("SELECT setval(pg_get_serial_sequence('items', 'pk'), 1)")
        _postgres_search_index()


def _sqlite_search_index() -> None:
    # The names of present items, indexed by trigrams of their folded form; triggers keep
    # it in step with the items table, so that search never walks rows.
    op.execute(
        "CREATE VIRTUAL TABLE item_names USING fts5("
        "folded, content='items', content_rowid='pk', tokenize='trigram case_sensitive 1')"
    )
    op.execute(
        "CREATE TRIGGER item_names_insert AFTER INSERT ON items WHEN new.state = 'present' "
        "BEGIN INSERT INTO item_names(rowid, folded) VALUES (new.pk, new.folded); END"
    )
    op.execute(
        "CREATE TRIGGER item_names_delete AFTER DELETE ON items WHEN old.state = 'present' "
        "BEGIN INSERT INTO item_names(item_names, rowid, folded) "
        "VALUES ('delete', old.pk, old.folded); END"
    )
    op.execute(
        "CREATE TRIGGER item_names_update AFTER UPDATE OF folded, state ON items BEGIN "
        "INSERT INTO item_names(item_names, rowid, folded) "
        "SELECT 'delete', old.pk, old.folded WHERE old.state = 'present'; "
        "INSERT INTO item_names(rowid, folded) SELECT new.pk, new.folded "
        "WHERE new.state = 'present'; END"
    )


def _postgres_search_index() -> None:
    # The folded names of present items in a GIN index of their trigrams (pg_trgm), which
    # answers `folded LIKE '%word%'` for words of three or more characters.
    connection = op.get_bind()
    try:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        raise CatalogSetupError(
            "The PostgreSQL catalog needs the pg_trgm extension for search, and it could "
            f"not be created ({error.orig}). Run CREATE EXTENSION pg_trgm; in this database "
            "as a user allowed to (a superuser, or on PostgreSQL 13 and newer a user with "
            "the CREATE right on the database), then start docrelay again."
        ) from error
    schema = connection.exec_driver_sql(
        "SELECT quote_ident(nspname) FROM pg_extension JOIN pg_namespace "
        "ON pg_namespace.oid = extnamespace WHERE extname = 'pg_trgm'"
    ).scalar_one()
    op.execute(
        "CREATE INDEX ix_items_folded_trigrams ON items "
        f"USING gin (folded {schema}.gin_trgm_ops) WHERE state = 'present'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE item_names")
    for table in ("server_values", "temporaries", "trash", "api_keys", "items"):
        op.drop_table(table)
