"""Alembic's environment: runs on the connection docrelay hands over in ``config.attributes``."""

from alembic import context

from docrelay.catalog.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
