"""One job's trouble stays that job's: conflicting fire times, unreadable rows and
coalesced fires, through the REST API over waitress on both backends.

Each scenario keeps a 1 s canary job firing and checks it went on firing throughout, and
that no run is left ``running`` once the scheduler stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from waitress.server import create_server

from tests import jobs
from tests.conftest import eventually
from tests.integration.rows import corrupt_job
from tickwork import EngineSettings, Outcome, Run, Scheduler
from tickwork.flask import APScheduler

FAST = EngineSettings(poll_interval=0.05, heartbeat_interval=0.2, node_timeout=1.0)


@dataclass
class Api:
    """A running scheduler node serving the REST API over waitress on loopback."""

    root: str
    scheduler: Scheduler

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.root}/scheduler{path}", timeout=10, **kwargs)


@pytest.fixture
def api(database_url: str, caplog: pytest.LogCaptureFixture) -> Iterator[Api]:
    app = Flask(__name__)
    app.config.update(
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_TIMEZONE="UTC",
        SCHEDULER_ALLOWED_CALLABLES=["tests.jobs:*"],
        SCHEDULER_METRICS_ENABLED=True,
    )
    scheduler = Scheduler(database_url, timezone="UTC", settings=FAST)
    extension = APScheduler(scheduler)
    extension.init_app(app)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:  # the listening socket closed under the loop at the end
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, name="waitress", daemon=True)
    thread.start()
    jobs.calls.clear()
    scheduler.start()
    scheduler.add_job("tests.jobs:record", "interval", ["canary"], seconds=1, id="canary")
    yield Api(f"http://127.0.0.1:{server.effective_port}", scheduler)
    closing.set()
    server.close()
    thread.join(5)
    scheduler.shutdown()
    try:
        assert scheduler.get_runs(outcome=Outcome.RUNNING) == [], "a run was left running"
        logged = caplog.get_records("setup") + caplog.get_records("call")
        failed = [r.getMessage() for r in logged if "claim failed" in r.getMessage()]
        assert failed == [], "a claim transaction failed"
        _check_executions_match_history(scheduler)
    finally:
        scheduler.close()


def _check_executions_match_history(scheduler: Scheduler) -> None:
    """Every call is a succeeded row and the other way round: nothing ran twice."""
    calls: dict[str, int] = {}
    for call in jobs.calls:
        calls[str(call[0])] = calls.get(str(call[0]), 0) + 1
    succeeded: dict[str, int] = {}
    for run in scheduler.get_runs(outcome=Outcome.SUCCEEDED, limit=10_000):
        if not run.manual:
            succeeded[run.job_id] = succeeded.get(run.job_id, 0) + 1
    assert calls == succeeded


def canary_runs(scheduler: Scheduler) -> int:
    return len(scheduler.get_runs("canary", outcome=Outcome.SUCCEEDED, limit=10_000))


def keeps_firing(scheduler: Scheduler, job_id: str, fires: int = 3) -> None:
    """Wait until ``job_id`` and the canary each succeed ``fires`` more times."""
    baseline = {
        name: len(scheduler.get_runs(name, outcome=Outcome.SUCCEEDED, limit=10_000))
        for name in (job_id, "canary")
    }
    eventually(
        lambda: all(
            len(scheduler.get_runs(name, outcome=Outcome.SUCCEEDED, limit=10_000)) >= count + fires
            for name, count in baseline.items()
        ),
        timeout=20,
    )


def claimed_ahead(scheduler: Scheduler, job_id: str) -> Callable[[], Run | None]:
    """A condition: a run of the job claimed ahead of its time and not started yet."""

    def find() -> Run | None:
        now = scheduler.store.now()
        for run in scheduler.get_runs(job_id, outcome=Outcome.RUNNING, limit=5):
            if run.scheduled_time > now + timedelta(seconds=0.1):
                return run
        return None

    return find


def test_next_run_time_set_back_to_a_claimed_fire_does_not_stop_claims(api: Api) -> None:
    api.scheduler.add_job(
        "tests.jobs:record", "interval", ["edited"], seconds=1, coalesce=False, id="edited"
    )
    eventually(lambda: len(api.scheduler.get_runs("edited", outcome=Outcome.SUCCEEDED)) >= 2)
    first = api.scheduler.get_runs("edited", outcome=Outcome.SUCCEEDED)[-1]
    response = api.call(
        "PATCH", "/jobs/edited", json={"next_run_time": first.scheduled_time.isoformat()}
    )
    assert response.status_code == 200, response.text
    keeps_firing(api.scheduler, "edited")
    assert api.call("GET", "/jobs/edited").json()["broken_reason"] is None


def test_pause_and_resume_inside_the_claim_ahead_window(api: Api) -> None:
    """Resuming a coalesce=false job computes the fire time that is claimed already."""
    api.scheduler.add_job(
        "tests.jobs:record", "interval", ["toggled"], seconds=1, coalesce=False, id="toggled"
    )
    for _ in range(2):
        eventually(claimed_ahead(api.scheduler, "toggled"))
        assert api.call("POST", "/jobs/toggled/pause").status_code == 200
        assert api.call("POST", "/jobs/toggled/resume").status_code == 200
    keeps_firing(api.scheduler, "toggled")


def test_replacing_re_add_inside_the_claim_ahead_window(api: Api) -> None:
    """What ``tickwork serve`` does with ``[[jobs]]`` on restart, just before a fire."""
    spec: dict[str, Any] = {
        "id": "readded",
        "func": "tests.jobs:record",
        "args": ["readded"],
        "trigger": "cron",
        "second": "*",
    }
    api.scheduler.add_jobs([spec])
    for _ in range(2):
        eventually(claimed_ahead(api.scheduler, "readded"))
        api.scheduler.add_jobs([spec], replace_existing=True)
    keeps_firing(api.scheduler, "readded")


@pytest.mark.parametrize(
    "stored",
    ['{"type": "interval", "seconds": ', '{"type": "lunar", "phase": "full"}'],
    ids=["corrupt-json", "newer-trigger-type"],
)
def test_an_unreadable_job_row_is_marked_broken_and_the_rest_goes_on(
    api: Api, database_url: str, stored: str
) -> None:
    api.scheduler.add_job(
        "tests.jobs:record", "interval", ["victim"], seconds=1, coalesce=False, id="victim"
    )
    corrupt_job(database_url, "victim", stored)
    broken = eventually(lambda: api.call("GET", "/jobs/victim").json()["broken_reason"])
    assert "cannot be read" in str(broken)
    keeps_firing(api.scheduler, "canary", fires=2)
    listing = api.call("GET", "/jobs")
    assert listing.status_code == 200
    shown = {job["id"]: job for job in listing.json()}
    assert shown["victim"]["trigger"] == "unreadable"
    assert shown["victim"]["next_run_time"] is None
    assert shown["canary"]["broken_reason"] is None
    metrics = requests.get(f"{api.root}/metrics", timeout=10).text
    assert "tickwork_jobs_broken 1.0" in metrics
    resumed = api.call("POST", "/jobs/victim/resume")
    assert resumed.status_code == 400
    assert "new trigger" in resumed.text

    repaired = api.call("PATCH", "/jobs/victim", json={"trigger": "interval", "seconds": 1})
    assert repaired.status_code == 200, repaired.text
    assert repaired.json()["broken_reason"] is None
    keeps_firing(api.scheduler, "victim")
    assert "tickwork_jobs_broken 0.0" in requests.get(f"{api.root}/metrics", timeout=10).text


def test_a_row_with_corrupt_args_is_marked_broken(api: Api, database_url: str) -> None:
    """SQLite keeps JSON as text, so args can be corrupt there (PostgreSQL's JSONB cannot)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses invalid JSONB")
    api.scheduler.add_job("tests.jobs:record", "interval", ["victim"], seconds=1, id="victim")
    corrupt_job(database_url, "victim", "[1,", column="args")
    assert api.call("GET", "/jobs").status_code == 200
    eventually(lambda: api.scheduler.count_broken_jobs() == 1)
    assert "cannot be read" in api.call("GET", "/jobs/victim").json()["broken_reason"]
    keeps_firing(api.scheduler, "canary", fires=2)


def test_a_replacing_re_add_clears_broken(api: Api, database_url: str) -> None:
    api.scheduler.add_job("tests.jobs:record", "interval", ["victim"], seconds=1, id="victim")
    corrupt_job(database_url, "victim", "not json")
    eventually(lambda: api.scheduler.count_broken_jobs() == 1)
    api.scheduler.add_job(
        "tests.jobs:record", "interval", ["victim"], seconds=1, replace_existing=True, id="victim"
    )
    assert api.scheduler.count_broken_jobs() == 0
    keeps_firing(api.scheduler, "victim")


def test_coalesced_fires_are_counted_in_history(api: Api) -> None:
    past = api.scheduler.store.now() - timedelta(seconds=5.5)
    api.scheduler.add_job(
        "tests.jobs:record",
        "interval",
        ["behind"],
        seconds=1,
        start_date=past,
        next_run_time=past,
        coalesce=True,
        misfire_grace_time=None,
        id="behind",
    )
    eventually(lambda: api.scheduler.get_runs("behind", outcome=Outcome.SUCCEEDED))
    runs = api.call("GET", "/jobs/behind/runs").json()
    first = runs[-1]
    # fire times past, past+1 s, ... up to the claim's horizon: the run stands for them all
    assert first["coalesced"] in (5, 6), first
    assert _parse(first["scheduled_time"]) == past + timedelta(seconds=first["coalesced"])
    keeps_firing(api.scheduler, "behind", fires=1)


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)
