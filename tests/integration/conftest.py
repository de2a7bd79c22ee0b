"""Schedulers on each backend, closed after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import jobs
from tickwork import EngineSettings, Scheduler

FAST = EngineSettings(poll_interval=0.05, heartbeat_interval=0.2, node_timeout=1.0)


@pytest.fixture
def make_scheduler(database_url: str) -> Iterator[Callable[..., Scheduler]]:
    """Build schedulers on the test's database; every one is closed at the end."""
    made: list[Scheduler] = []

    def make(**options: Any) -> Scheduler:
        options.setdefault("timezone", "UTC")
        options.setdefault("settings", FAST)
        scheduler = Scheduler(database_url, **options)
        made.append(scheduler)
        return scheduler

    jobs.calls.clear()
    jobs.gate.clear()
    yield make
    jobs.gate.set()
    for scheduler in made:
        scheduler.close()


@pytest.fixture
def scheduler(make_scheduler: Callable[..., Scheduler]) -> Scheduler:
    return make_scheduler()
