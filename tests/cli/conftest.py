"""Running the CLI in-process (click's CliRunner) against a database URL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tickwork import Scheduler
from tickwork.cli import main

Invoke = Callable[..., Result]


@pytest.fixture
def cli(database_url: str) -> Invoke:
    """``cli("jobs", "list")`` runs ``tickwork jobs list -d <database_url>``, on a database
    that exists (as after ``tickwork serve`` or ``tickwork db upgrade``)."""
    create_database(database_url)
    return make_invoker(database_url)


def create_database(database_url: str) -> None:
    """Create the store and its schema, as ``tickwork db upgrade`` does."""
    with stopped_scheduler(database_url) as scheduler:
        scheduler.open_store()


def make_invoker(database_url: str) -> Invoke:
    def invoke(*args: str, database: bool = True, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        extra = ["-d", database_url] if database else []
        return runner.invoke(main, [*args, *extra], env=env, catch_exceptions=False)

    return invoke


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


@contextmanager
def stopped_scheduler(database_url: str) -> Iterator[Scheduler]:
    """A scheduler that is never started, to look at the store."""
    scheduler = Scheduler(database_url)
    try:
        yield scheduler
    finally:
        scheduler.close()
