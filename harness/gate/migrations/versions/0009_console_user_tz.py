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
    _drop("console_users", ("tz",))


def _drop(table: str, columns: tuple[str, ...]) -> None:
    """Drop columns; on SQLite with its own ALTER TABLE DROP COLUMN (3.35+): a batch copy
    would drop and recreate the table, which the foreign keys of the tables referencing it
    refuse once they hold rows."""
    if op.get_bind().dialect.name == "sqlite":
        for c in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {c}")
        return
    with op.batch_alter_table(table) as batch:
        for c in columns:
            batch.drop_column(c)
