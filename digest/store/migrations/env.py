"""Alembic's environment: migrate the connection digest.store.upgrade hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from digest.store import schema

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=schema.metadata,
    # SQLite alters a table by copying it; Alembic's batch mode does that.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
