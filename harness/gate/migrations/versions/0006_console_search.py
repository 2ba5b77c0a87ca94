"""The sites page's search: each site's searchable terms (its numbers canonical and reversed,
so that a prefix or a suffix is an index range; its trunk names, SIRET, customer and site
names) and each trunk's gate facts (the state at the last refresh, when the 24 h end, when
the verification expires), so that "activable maintenant" is a SQL condition on the clock.

The sites already uploaded get their names, SIRET, trunks and gate facts here; their numbers
come with their next upload (they are read from the masked profile, which is not kept).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "console_site_terms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("rev", sa.String(20), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("shown", sa.String(200), nullable=False),
    )
    op.create_index("ix_console_site_terms_value", "console_site_terms",
                    ["kind", "value", "site"])
    op.create_index("ix_console_site_terms_rev", "console_site_terms", ["kind", "rev", "site"])
    op.create_index("ix_console_site_terms_site", "console_site_terms", ["site"])
    op.create_table(
        "console_trunk_gate",
        sa.Column("site", sa.String(200), primary_key=True),
        sa.Column("trunk", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("eligible_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_console_trunk_gate_pending", "console_trunk_gate",
                    ["state", "eligible_at"])
    from harness.console.search import backfill

    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_console_trunk_gate_pending", "console_trunk_gate")
    op.drop_table("console_trunk_gate")
    op.drop_index("ix_console_site_terms_site", "console_site_terms")
    op.drop_index("ix_console_site_terms_rev", "console_site_terms")
    op.drop_index("ix_console_site_terms_value", "console_site_terms")
    op.drop_table("console_site_terms")
