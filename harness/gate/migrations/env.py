"""Alembic environment for the gate store: run programmatically by :func:`harness.gate.open_store`
with the connection it already holds (no alembic.ini)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
