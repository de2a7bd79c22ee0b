"""Migrations give exactly the schema of ``tickwork.store.schema``, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine, make_url

from tickwork.store import create_store
from tickwork.store.migrate import _MIGRATIONS, HEAD_REVISION, VERSION_TABLE, downgrade, upgrade
from tickwork.store.schema import metadata

TABLES = {"tickwork_scheduler", "tickwork_nodes", "tickwork_jobs", "tickwork_runs"}


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed)


def test_head_revision_constant_matches_the_scripts() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_upgrade_gives_the_declared_schema(database_url: str) -> None:
    engine = _engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, metadata) == []
        assert conn.exec_driver_sql("SELECT count(*) FROM tickwork_scheduler").scalar() == 1
    engine.dispose()


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = _engine(database_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert TABLES.isdisjoint(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_store_start_migrates_once_and_is_idempotent(database_url: str) -> None:
    store = create_store(database_url)
    store.start()
    store.start()
    assert not store.get_scheduler_state().is_paused
    store.close()
    engine = _engine(database_url)
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
            == HEAD_REVISION
        )
    engine.dispose()
