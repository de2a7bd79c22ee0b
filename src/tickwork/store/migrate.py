"""Bringing a database to the current schema with Alembic.

Alembic is only imported when the schema is not already current, so a node restarting on
an up-to-date database is ready in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import DBAPIError

from tickwork._version import __version__
from tickwork.exceptions import ConfigurationError, SchemaMismatchError
from tickwork.store import queries as q

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision in ``migrations/versions``; a test keeps the two in step.
HEAD_REVISION = "0004"
VERSION_TABLE = "tickwork_alembic_version"
_MIGRATIONS = Path(__file__).parent / "migrations"
#: PostgreSQL's undefined_table and undefined_column.
_MISSING_OBJECT_STATES = frozenset({"42P01", "42703"})
_SQLITE_MISSING_MARKERS = ("no such table", "no such column", "has no column named")


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    revision: str | None = conn.execute(q.select_schema_revision(VERSION_TABLE)).scalar()
    return revision


def upgrade(engine: Engine, revision: str = "head", *, create: bool = True) -> None:
    """Migrate to ``revision``; concurrent callers wait for each other (one wins).

    :param create: with ``False``, refuse a database without tickwork's tables.
    :raises SchemaMismatchError: the database is at a revision this tickwork does not know
        (a newer tickwork migrated it), which Alembic would only report as "Can't locate
        revision".
    :raises ConfigurationError: ``create`` is false and there is nothing to upgrade.
    """
    with engine.connect() as conn:
        current = current_revision(conn)
        if revision == "head" and current == HEAD_REVISION:
            return
    if current is None and not create:
        raise ConfigurationError(
            f"database {engine.url.render_as_string()} has no tickwork tables; run "
            "`tickwork db upgrade` (or pass --create) to create them",
            field="database",
        )
    from alembic import command

    with engine.connect() as conn:
        conn.info["tickwork_write"] = True
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # Serialise concurrent first starts of several nodes.
                conn.execute(q.lock_migrations())
            config = _alembic_config(conn)
            _check_known(config, current_revision(conn))
            command.upgrade(config, revision)


def _check_known(config: Config, current: str | None) -> None:
    """Refuse a revision missing from our migrations: a newer tickwork wrote it."""
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise SchemaMismatchError(
            f"the database schema is at revision {current}, which this tickwork "
            f"{__version__} (schema {HEAD_REVISION}) does not know: a newer tickwork "
            "migrated it. Upgrade tickwork on this host; a database is never migrated down "
            "automatically"
        )


def schema_problem(exc: DBAPIError) -> bool:
    """Whether a driver error says a table or column is missing (not an outage)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _MISSING_OBJECT_STATES:
        return True
    message = str(exc.orig).lower()
    return any(marker in message for marker in _SQLITE_MISSING_MARKERS)


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
