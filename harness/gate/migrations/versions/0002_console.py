"""The console's tables beside the gate's: users, grants, upload tokens, uploaded runs and
their files, the audit log and login attempts. Files live in the database so that several
console instances behind one load balancer share everything and keep nothing on disk.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "console_settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(500), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "console_grants",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id"), primary_key=True),
        sa.Column("site", sa.String(200), primary_key=True),
    )
    op.create_table(
        "console_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id"), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "console_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("site_name", sa.String(200), nullable=False),
        sa.Column("customer", sa.String(200), nullable=False),
        sa.Column("integrator", sa.String(200), nullable=True),
        sa.Column("generated", sa.String(40), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploader", sa.String(200), nullable=False),
        sa.Column("n_pass", sa.Integer, nullable=False),
        sa.Column("n_fail", sa.Integer, nullable=False),
        sa.Column("n_error", sa.Integer, nullable=False),
        sa.Column("n_skip", sa.Integer, nullable=False),
        sa.Column("light", sa.String(10), nullable=False),
        sa.Column("trunks", sa.Text, nullable=False),
        # what the site page reads of results.json (checks' states, incidents, worst
        # quality), a few kB: the document itself (up to MBs) is in console_files
        sa.Column("digest", sa.Text, nullable=False),
    )
    op.create_index("console_runs_site", "console_runs", ["site", "generated"])
    op.create_table(
        "console_files",
        sa.Column("run", sa.Integer, sa.ForeignKey("console_runs.id"), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("site", sa.String(200), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("console_audit_site", "console_audit", ["site", "at"])
    op.create_table(
        "console_login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("console_login_attempts_user", "console_login_attempts",
                    ["username", "at"])
    op.create_index("console_login_attempts_ip", "console_login_attempts", ["ip", "at"])


def downgrade() -> None:
    for name in ("console_login_attempts", "console_audit", "console_files", "console_runs",
                 "console_tokens", "console_grants", "console_users", "console_settings"):
        op.drop_table(name)
