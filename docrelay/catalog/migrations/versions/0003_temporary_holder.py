"""Upload temporaries record the process writing them.

Several instances share a catalog: one starting must not sweep the temporaries of
uploads another is still writing.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("temporaries", sa.Column("holder", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("temporaries") as batch:
        batch.drop_column("holder")
