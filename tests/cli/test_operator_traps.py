"""Operator traps (issue 11, findings 6 and 9): bad input is exit 2 with the field, a
mistyped database is not created, schema mismatches say which versions and what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from tests import jobs
from tests.cli.conftest import Invoke, as_json, make_invoker, stopped_scheduler
from tests.cli.test_subprocess import tickwork
from tickwork import ManualClock, Scheduler
from tickwork.flask import APScheduler
from tickwork.store.migrate import HEAD_REVISION


def _job_ids(database_url: str) -> list[str]:
    with stopped_scheduler(database_url) as scheduler:
        return [job.id for job in scheduler.get_jobs()]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (["x", "tests.jobs:record", "-t", "interval", "-a", "seconds=1e30"], "seconds"),
        (["x", "tests.jobs:record", "-t", "interval", "-a", "seconds=1", "-a", "jitter=1e300"],
         "jitter"),
        (["x", "tests.jobs:record", "-t", "interval", "-a", "seconds=0.000001"], "seconds"),
        (["x", "tests.jobs:record", "-t", "cron", "-a", "month=2", "-a", "day=31"], "trigger"),
        (["a/b", "tests.jobs:record", "-t", "interval", "-a", "seconds=5"], "id"),
        (["x", "tests.jobs:record", "-t", "date", "-a", "run_date=0001-01-01"], "run_date"),
        (["x", "tests.jobs:record", "-t", "interval", "-a", "seconds=5", "--args",
          "[" * 900 + "]" * 900], "args"),
    ],
)  # fmt: skip
def test_bad_job_input_is_exit_2_naming_the_field(
    cli: Invoke, database_url: str, arguments: list[str], field: str
) -> None:
    result = cli("jobs", "add", *arguments)
    assert result.exit_code == 2, result.output
    assert field in result.stderr
    assert "unexpected" not in result.stderr
    assert _job_ids(database_url) == []


def test_bad_job_input_as_a_process(sqlite_url: str) -> None:
    assert tickwork(sqlite_url, "db", "upgrade").returncode == 0
    result = tickwork(
        sqlite_url, "jobs", "add", "x", "tests.jobs:record", "-t", "interval", "-a", "seconds=1e30"
    )
    assert result.returncode == 2
    assert "seconds" in result.stderr
    assert "Traceback" not in result.stderr
    assert "unexpected" not in result.stderr
    assert _job_ids(sqlite_url) == []


def test_resume_of_a_finished_job_is_refused_and_kept(cli: Invoke, database_url: str) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    with stopped_scheduler(database_url) as scheduler:
        past = Scheduler(store=scheduler.store, clock=ManualClock(start), timezone="UTC")
        past.add_job(
            jobs.record, trigger="interval", minutes=10,
            start_date=start, end_date=start + timedelta(hours=1), id="ends"
        )  # fmt: skip
        past.pause_job("ends")
    result = cli("jobs", "resume", "ends")
    assert result.exit_code == 1
    assert "no fire time left" in result.stderr
    assert as_json(cli("jobs", "show", "ends", "--json"))["next_run_time"] is None


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "tpyo" / "jobs.sqlite"
    invoke = make_invoker(f"sqlite:///{typo}")
    result = invoke("jobs", "list")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "--create" in result.stderr
    assert not typo.parent.exists()
    assert invoke("jobs", "list", "--create").exit_code == 0
    assert typo.exists()


def test_a_missing_database_is_not_created_by_a_process(tmp_path: Path) -> None:
    typo = tmp_path / "tpyo" / "jobs.sqlite"
    result = tickwork(f"sqlite:///{typo}", "jobs", "list")
    assert result.returncode == 2
    assert not typo.parent.exists()
    assert tickwork(f"sqlite:///{typo}", "db", "upgrade").returncode == 0
    assert typo.exists()


def _execute(database_url: str, statement: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_a_newer_schema_names_both_versions(cli: Invoke, database_url: str) -> None:
    _execute(database_url, "UPDATE tickwork_alembic_version SET version_num = '0099'")
    result = tickwork(database_url, "jobs", "list")
    assert result.returncode == 3
    assert "0099" in result.stderr
    assert f"schema {HEAD_REVISION}" in result.stderr
    assert "Upgrade tickwork" in result.stderr
    assert "unexpected" not in result.stderr
    assert cli("db", "upgrade").exit_code == 3  # never migrated down


def test_a_missing_column_is_a_schema_problem(cli: Invoke, database_url: str) -> None:
    _execute(database_url, "ALTER TABLE tickwork_jobs DROP COLUMN name")
    result = tickwork(database_url, "jobs", "list")
    assert result.returncode == 3
    assert "do not match this tickwork" in result.stderr
    assert "unavailable" not in result.stderr
    app = Flask(__name__)
    app.config.update(SCHEDULER_API_ENABLED=True)
    extension = APScheduler(Scheduler(database_url, timezone="UTC"))
    extension.init_app(app)
    try:
        response = app.test_client().get("/scheduler/jobs")
        assert response.status_code == 500
        assert "schema mismatch" in response.get_json()["error_message"]
    finally:
        extension.scheduler.close()
