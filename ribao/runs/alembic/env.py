"""Alembic's entry for the run log: migrate the connection `ribao.runs.migrations.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from ribao.runs.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():  # a no-op inside the caller's transaction, which holds the lock
    context.run_migrations()
