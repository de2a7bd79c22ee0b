"""Alembic environment: always runs on the connection tickwork hands it."""

from __future__ import annotations

from alembic import context

from tickwork.store.migrate import VERSION_TABLE
from tickwork.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
