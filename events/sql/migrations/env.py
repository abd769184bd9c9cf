"""Alembic's environment: always run inside the connection and transaction sitrep opened."""

from __future__ import annotations

from alembic import context

from events.sql.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
