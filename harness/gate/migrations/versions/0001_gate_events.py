"""The gate's append-only event log and its per-site lock rows.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "gate_sites",
        sa.Column("site", sa.String(200), primary_key=True),
    )
    op.create_table(
        "gate_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(200), sa.ForeignKey("gate_sites.site"), nullable=False),
        sa.Column("trunk", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("evidence", sa.String(500), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("gate_events_site_at", "gate_events", ["site", "at", "id"])


def downgrade() -> None:
    op.drop_index("gate_events_site_at", "gate_events")
    op.drop_table("gate_events")
    op.drop_table("gate_sites")
