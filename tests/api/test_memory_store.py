"""A memory job store, as an app's test suite configures it: a fresh app per test, each
with a private in-memory database, no file in the working tree, nothing shared."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from flask import Flask

from tests import jobs
from tests.api.loopback import serve
from tests.conftest import eventually
from tickwork import Outcome
from tickwork.flask import APScheduler

FIRES = 200


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """The app factory of a test suite, run in an empty working directory."""
    monkeypatch.chdir(tmp_path)
    made: list[APScheduler] = []

    def make(jobstore: Any = None) -> Flask:
        app = Flask(__name__)
        app.config.update(
            SCHEDULER_JOBSTORES={"default": jobstore or MemoryJobStore()},
            SCHEDULER_API_ENABLED=True,
            SCHEDULER_ALLOWED_CALLABLES=["tests.jobs:*"],
            SCHEDULER_TIMEZONE="UTC",
            SCHEDULER_ENGINE={"poll_interval": 0.05, "heartbeat_interval": 0.2},
        )
        extension = APScheduler()
        extension.init_app(app)
        made.append(extension)
        return app

    jobs.calls.clear()
    yield make
    for extension in made:
        extension.scheduler.close()
    assert list(tmp_path.iterdir()) == []


def extension_of(app: Flask) -> APScheduler:
    extension: APScheduler = app.extensions["tickwork"]
    return extension


@pytest.mark.parametrize("jobstore", [MemoryJobStore(), {"type": "memory"}])
def test_each_app_gets_its_own_empty_database(
    make_app: Callable[..., Flask], jobstore: Any
) -> None:
    first, second = make_app(jobstore), make_app(jobstore)  # even one store object
    client = first.test_client()
    body = {"id": "j", "func": "tests.jobs:record", "trigger": "interval", "seconds": 60}
    assert client.post("/scheduler/jobs", json=body).status_code == 200
    first_scheduler = extension_of(first).scheduler
    first_scheduler.pause()
    assert [job.id for job in first_scheduler.get_jobs()] == ["j"]
    assert second.test_client().get("/scheduler/jobs").get_json() == []
    assert not extension_of(second).scheduler.get_scheduler_state().is_paused


def test_jobs_fire_and_are_recorded_under_api_reads_at_once(
    make_app: Callable[..., Flask],
) -> None:
    """Claim loop, recorder, heartbeat, workers and waitress's request threads all on one
    in-memory database: every fire is recorded and no request fails."""
    app = make_app()
    extension = extension_of(app)
    now = datetime.now(UTC)
    for number in range(FIRES):
        extension.add_job(id=f"j{number}", func="tests.jobs:record", trigger="date", run_date=now)
    failures: list[str] = []
    done = threading.Event()

    with serve(app) as server:

        def read() -> None:
            while not done.is_set():
                for path in ("/scheduler/jobs", "/scheduler/runs", "/scheduler/nodes"):
                    answer = server.call("GET", path)
                    if answer.status != 200:
                        failures.append(f"{path}: {answer.status} {answer.body!r}")

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        try:
            extension.start()
            eventually(lambda: len(jobs.calls) == FIRES, timeout=60)
            eventually(
                lambda: (
                    len(extension.scheduler.get_runs(outcome=Outcome.SUCCEEDED, limit=500)) == FIRES
                ),
                timeout=60,
            )
        finally:
            done.set()
            for reader in readers:
                reader.join()
    assert failures == []
    assert extension.scheduler.get_jobs() == []  # one-shot jobs removed once run
