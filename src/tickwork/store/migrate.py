"""Bringing a database to the current schema with Alembic.

Alembic is only imported when the schema is not already current, so a node restarting on
an up-to-date database is ready in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect

from tickwork.store import queries as q

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision in ``migrations/versions``; a test keeps the two in step.
HEAD_REVISION = "0002"
VERSION_TABLE = "tickwork_alembic_version"
_MIGRATIONS = Path(__file__).parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    revision: str | None = conn.execute(q.select_schema_revision(VERSION_TABLE)).scalar()
    return revision


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; concurrent callers wait for each other (one wins)."""
    with engine.connect() as conn:
        if revision == "head" and current_revision(conn) == HEAD_REVISION:
            return
    from alembic import command

    with engine.connect() as conn:
        conn.info["tickwork_write"] = True
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # Serialise concurrent first starts of several nodes.
                conn.execute(q.lock_migrations())
            command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.connect() as conn:
        conn.info["tickwork_write"] = True
        with conn.begin():
            command.downgrade(_alembic_config(conn), revision)


def _alembic_config(conn: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config
