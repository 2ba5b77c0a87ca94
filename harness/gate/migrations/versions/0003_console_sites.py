"""The console's one row per site (its latest run's view and since when its light holds),
kept at every upload so the sites page is one indexed, paged query at 10 000 sites and
200 000 runs instead of a walk over every run; filled from the runs already uploaded.

Revision ID: 0003
Revises: 0002
"""

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def _when(run: Any) -> dt.datetime:
    """A run's own time (results.json ``generated``), else its upload's (as the store)."""
    try:
        t = dt.datetime.fromisoformat(run.generated)
    except (TypeError, ValueError):
        t = run.uploaded_at
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def upgrade() -> None:
    op.create_table(
        "console_sites",
        sa.Column("site", sa.String(200), primary_key=True),
        sa.Column("site_name", sa.String(200), nullable=False),
        sa.Column("customer", sa.String(200), nullable=False),
        sa.Column("integrator", sa.String(200), nullable=True),
        sa.Column("light", sa.String(10), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run", sa.Integer, nullable=False),
        sa.Column("last_generated", sa.String(40), nullable=False),
        sa.Column("trunks", sa.Text, nullable=False),
    )
    for col in ("customer", "integrator", "light", "last_generated", "since", "site_name"):
        op.create_index(f"console_sites_{col}", "console_sites", [col])
    op.create_index("console_runs_integrator", "console_runs", ["integrator", "site"])
    conn = op.get_bind()
    sites = [r[0] for r in conn.execute(sa.text("SELECT DISTINCT site FROM console_runs"))]
    for site in sites:
        runs = conn.execute(sa.text(
            "SELECT id, site_name, customer, integrator, light, uploaded_at, generated, trunks "
            "FROM console_runs WHERE site = :s ORDER BY generated DESC, id DESC"),
            {"s": site}).all()
        since = _when(runs[0])
        for r in runs:
            if r.light != runs[0].light:
                break
            since = _when(r)
        last = runs[0]
        conn.execute(sa.text(
            "INSERT INTO console_sites (site, site_name, customer, integrator, light, since, "
            "last_run, last_generated, trunks) VALUES (:site, :n, :c, :i, :l, :s, :r, :g, :t)"),
            {"site": site, "n": last.site_name, "c": last.customer, "i": last.integrator,
             "l": last.light, "s": since, "r": last.id, "g": last.generated,
             "t": last.trunks})


def downgrade() -> None:
    op.drop_index("console_runs_integrator", "console_runs")
    op.drop_table("console_sites")
