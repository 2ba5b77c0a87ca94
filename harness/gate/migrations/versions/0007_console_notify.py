"""Notifications: each user's choices (e-mail, webhook, which events) and the outbox every
notification passes through. The outbox's unique key (user, channel, event, site, trunk,
occurrence) makes "announce once" a property of the database: a sweep run 100 times, or on
two console instances at once, inserts the row once and the others are ignored. Two indexes
let the sweep read only what fell due since the previous one (passes by time, sites by
expiry), never every site.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "console_notify_prefs",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("email_events", sa.String(100), nullable=False, server_default=""),
        sa.Column("webhook_url", sa.String(500), nullable=True),
        sa.Column("webhook_events", sa.String(100), nullable=False, server_default=""),
        sa.Column("webhook_secret", sa.String(100), nullable=True),
        sa.Column("lang", sa.String(5), nullable=False, server_default="fr"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "console_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("trunk", sa.String(200), nullable=False),
        sa.Column("occurrence", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.UniqueConstraint("user_id", "channel", "event", "site", "trunk", "occurrence",
                            name="console_outbox_once"),
    )
    op.create_index("console_outbox_due", "console_outbox", ["state", "due_at"])
    op.create_index("gate_events_kind_at", "gate_events", ["kind", "at"])
    op.create_index("console_sites_expires", "console_sites", ["expires"])


def downgrade() -> None:
    op.drop_index("console_sites_expires", "console_sites")
    op.drop_index("gate_events_kind_at", "gate_events")
    op.drop_index("console_outbox_due", "console_outbox")
    op.drop_table("console_outbox")
    op.drop_table("console_notify_prefs")
