"""``Scheduler("sqlite://")``: a private in-memory database per store, for one node, freed
when closed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import jobs
from tests.conftest import eventually
from tests.integration.conftest import FAST
from tickwork import ConfigurationError, Outcome, Scheduler
from tickwork.cli import main
from tickwork.exceptions import StoreError
from tickwork.store import MEMORY_URL, Store, create_store


@pytest.fixture
def in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", [MEMORY_URL, "sqlite:///:memory:"])
def test_each_scheduler_has_its_own_database_where_jobs_fire(in_empty_dir: Path, url: str) -> None:
    jobs.calls.clear()
    first = Scheduler(url, timezone="UTC", settings=FAST)
    second = Scheduler(url, timezone="UTC", settings=FAST)
    try:
        first.add_job(id="j", func=jobs.record, trigger="date", args=["fired"])
        assert second.get_jobs() == []
        first.start()
        eventually(lambda: first.get_runs(outcome=Outcome.SUCCEEDED))
        assert jobs.calls == [("fired",)]
        assert second.get_runs() == []
    finally:
        first.close()
        second.close()


def test_a_second_scheduler_on_the_same_store_is_refused(in_empty_dir: Path) -> None:
    store = create_store(MEMORY_URL)
    owner = Scheduler(store=store, timezone="UTC")
    owner.add_job(id="j", func=jobs.record, trigger="interval", seconds=60)
    with pytest.raises(ConfigurationError, match="serves one node"):
        Scheduler(store=store, timezone="UTC")
    assert [job.id for job in owner.get_jobs()] == ["j"]
    assert owner.get_nodes(include_stopped=True) == []
    owner.close()


def _connection(store: Store) -> sqlite3.Connection:
    """The one connection that holds the database."""
    fairy = store._engine.raw_connection()  # type: ignore[attr-defined]
    connection: sqlite3.Connection = fairy.driver_connection
    fairy.close()  # back to the pool, still open
    return connection


def test_closing_frees_the_database_and_it_is_not_silently_recreated(
    in_empty_dir: Path,
) -> None:
    scheduler = Scheduler(MEMORY_URL, timezone="UTC")
    scheduler.add_job(id="j", func=jobs.record, trigger="interval", seconds=60)
    connection = _connection(scheduler.store)
    scheduler.close()
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")
    with pytest.raises(StoreError, match="was closed"):
        scheduler.get_jobs()


@pytest.mark.parametrize(
    "command",
    [["serve", "--port", "0"], ["jobs", "list"], ["db", "upgrade"], ["nodes", "list"]],
)
def test_the_cli_and_serve_refuse_an_in_memory_database(
    in_empty_dir: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(main, [*command, "-d", MEMORY_URL])
    assert result.exit_code == 2, result.output
    assert "in memory" in result.output
