"""The console's server-side sessions (harness/console/sessions.py): one row per login, the
token kept as its SHA-256, so that logout, a password change and a disabled account end a
session for good, and the idle and absolute limits are the server's. The cookie-signing key
leaves the database for a 0600 key file (a copy of the database must not forge sessions):
its old ``console_settings`` row is deleted (the table stays).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 hex of the token
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
    )
    op.create_index("console_sessions_user", "console_sessions", ["user_id", "ended_at"])
    op.create_index("console_login_attempts_pair", "console_login_attempts",
                    ["username", "ip", "at"])
    op.create_index("console_audit_at", "console_audit", ["at"])
    op.execute(sa.text("DELETE FROM console_settings WHERE key = 'secret_key'"))


def downgrade() -> None:
    op.drop_index("console_audit_at", "console_audit")
    op.drop_index("console_login_attempts_pair", "console_login_attempts")
    op.drop_index("console_sessions_user", "console_sessions")
    op.drop_table("console_sessions")
