"""``tickwork import-apscheduler`` through click's CliRunner: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.integration.test_import_apscheduler import (
    CONVERTIBLE,
    CRAFTED,
    UNCONVERTIBLE,
    write_apscheduler_store,
)
from tickwork import Scheduler
from tickwork.cli.import_apscheduler import import_apscheduler_command

FAILED_IDS = {*UNCONVERTIBLE, *CRAFTED, "corrupt"}


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/apscheduler.sqlite"
    write_apscheduler_store(url)
    return url


@pytest.fixture
def target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/tickwork.sqlite"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(import_apscheduler_command, list(args), env=env)


def stored_ids(url: str) -> set[str]:
    scheduler = Scheduler(url)
    try:
        return {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.close()


def test_dry_run_prints_the_plan_and_creates_nothing(source: str, target: str) -> None:
    result = run(source, "--dry-run", "-d", target)

    assert result.exit_code == 1, result.output
    assert f"Converted jobs ({len(CONVERTIBLE)}, would be added)" in result.stdout
    assert f"Not converted ({len(FAILED_IDS)})" in result.stdout
    assert "is a lambda or a nested function" in result.stdout
    assert "'processpool' is not configured" in result.stdout
    assert "paused" in result.stdout
    assert not Path(target.removeprefix("sqlite:///")).exists()


def test_json_import_adds_the_convertible_jobs_and_exits_1(source: str, target: str) -> None:
    result = run(source, "--json", env={"TICKWORK_DATABASE_URL": target})

    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["added"] is True
    assert report["dry_run"] is False
    assert report["database"] == target
    assert {job["id"] for job in report["converted"]} == set(CONVERTIBLE)
    assert {item["id"] for item in report["failed"]} == FAILED_IDS
    assert stored_ids(target) == set(CONVERTIBLE)
    by_id = {job["id"]: job for job in report["converted"]}
    assert by_id["paused"]["next_run_time"] is None
    assert by_id["other-executor"]["warnings"]

    again = json.loads(run(source, "--json", "-d", target).stdout)
    taken = {item["id"] for item in again["failed"]} - FAILED_IDS
    assert taken == set(CONVERTIBLE)
    replaced = json.loads(run(source, "--json", "--replace-existing", "-d", target).stdout)
    assert {job["id"] for job in replaced["converted"]} == set(CONVERTIBLE)


def test_all_or_nothing_adds_nothing(source: str, target: str) -> None:
    result = run(source, "--all-or-nothing", "-d", target)
    assert result.exit_code == 1
    assert "not added (--all-or-nothing)" in result.stdout
    assert stored_ids(target) == set()


def test_a_clean_store_exits_0(tmp_path: Path, target: str) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{tmp_path}/clean.sqlite"
    store = SQLAlchemyJobStore(url=url)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.start(paused=True)
    scheduler.add_job("tests.jobs:add", "interval", id="sum", minutes=5, args=[1, 2])
    scheduler.shutdown()
    store.engine.dispose()

    result = run(url, "-d", target)
    assert result.exit_code == 0, result.output
    assert "1 converted (added), 0 not converted." in result.stdout
    assert stored_ids(target) == {"sum"}


@pytest.mark.parametrize(
    ("source_url", "extra", "exit_code", "message"),
    [
        ("not a url", [], 2, "is not valid"),
        ("sqlite:///{tmp}/missing.sqlite", [], 2, "does not exist"),
        ("sqlite:///{tmp}/apscheduler.sqlite", ["--table", "nope"], 2, "table 'nope'"),
        ("postgresql://nobody@127.0.0.1:1/none", [], 3, "database error"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(
    source: str,
    target: str,
    tmp_path: Path,
    source_url: str,
    extra: list[str],
    exit_code: int,
    message: str,
) -> None:
    result = run(source_url.format(tmp=tmp_path), *extra, "-d", target)
    assert result.exit_code == exit_code, result.output
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_apscheduler_is_explained(
    source: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import metadata

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    result = run(source, "--dry-run")
    assert result.exit_code == 2
    assert "pip install 'tickwork[apscheduler]'" in result.stderr


def test_the_command_is_part_of_the_tickwork_cli() -> None:
    from tickwork.cli import main

    result = CliRunner().invoke(main, ["import-apscheduler", "--help"])
    assert result.exit_code == 0
    assert "SOURCE_URL" in result.output
