"""The console as the gate's only authority: the probes' registered public keys, the
attestations already used (one probe signature backs one run, never two), what the console
decided about each run's firewall verification, and when a site's verification expires (the
sites page's light turns grey then, in the same query that pages it).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "console_probe_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("public_key", sa.String(100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
    )
    op.create_table(
        "console_attestations",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("console_runs") as batch:
        batch.add_column(sa.Column("gate", sa.Text, nullable=True))
    with op.batch_alter_table("console_sites") as batch:
        batch.add_column(sa.Column("expires", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("checks", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_sites") as batch:
        batch.drop_column("checks")
        batch.drop_column("expires")
    with op.batch_alter_table("console_runs") as batch:
        batch.drop_column("gate")
    op.drop_table("console_attestations")
    op.drop_table("console_probe_keys")
