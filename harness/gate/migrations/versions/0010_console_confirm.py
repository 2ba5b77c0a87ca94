"""The site page's confirmation step: one-time tokens bound to the user, site, trunk and
action of an activation or a revocation, kept as their SHA-256 with a short expiry
(harness/console/confirm.py).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "console_confirmations",
        sa.Column("digest", sa.String(64), primary_key=True),  # SHA-256 hex of the token
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("trunk", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("console_confirmations_expires", "console_confirmations",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_index("console_confirmations_expires", "console_confirmations")
    op.drop_table("console_confirmations")
