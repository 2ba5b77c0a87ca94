"""The console's files out of the database: each file row keeps its metadata (digest, the
blob store holding it, its kind, when it was stored, when its retention ends, when it was
purged) and no longer needs its bytes (``data`` stays for rows written before, until
``recette console files migrate`` moves them out). Runs and sites may be archived (hidden,
reversible) and runs deleted (their files purged, the row kept as a tombstone: the gate's
trail names "run N").

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("console_files") as batch:
        batch.alter_column("data", existing_type=sa.LargeBinary, nullable=True)
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("backend", sa.String(10), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(20), nullable=True))
        batch.add_column(sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("console_files_sha256", "console_files", ["sha256"])
    op.create_index("console_files_expires", "console_files", ["expires_at"])
    # Rows of before: their kind from their name, stored when their run was uploaded.
    op.execute("UPDATE console_files SET kind = CASE "
               "WHEN name LIKE 'capture%' THEN 'capture' "
               "WHEN name IN ('report.html', 'junit.xml') THEN 'report' ELSE 'sheet' END")
    op.execute("UPDATE console_files SET stored_at = (SELECT uploaded_at FROM console_runs "
               "WHERE console_runs.id = console_files.run)")
    with op.batch_alter_table("console_runs") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("archived_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deleted_by", sa.String(200), nullable=True))
    with op.batch_alter_table("console_sites") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    _drop("console_sites", ("archived_at",))
    _drop("console_runs", ("deleted_by", "deleted_at", "archived_by", "archived_at"))
    op.drop_index("console_files_expires", "console_files")
    op.drop_index("console_files_sha256", "console_files")
    _drop("console_files", ("purged_at", "expires_at", "stored_at", "kind", "backend", "sha256"))


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
