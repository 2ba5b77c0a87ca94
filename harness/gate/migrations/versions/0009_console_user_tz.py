"""Each console user's time zone (an IANA name such as ``America/Montreal``): the console
shows every time in it, labelled; empty means the console's default (Europe/Paris, where
the technical service works). A column, not a settings table: it is read with the user on
every request already.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.add_column(sa.Column("tz", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_users") as batch:
        batch.drop_column("tz")
