"""The Python API refuses what the REST API refuses, with the same field, storing nothing;
resuming a finished job keeps it (issue 11, findings 5 and 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests import jobs
from tickwork import ConfigurationError, EngineSettings, JobFinishedError, ManualClock, Scheduler
from tickwork.config import parse_config
from tickwork.flask import APScheduler
from tickwork.triggers import AndTrigger, CronTrigger, IntervalTrigger

START = datetime(2026, 1, 1, tzinfo=UTC)


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"trigger": "interval", "seconds": 1e30}, "seconds"),
        ({"trigger": "interval", "seconds": 5, "jitter": 1e300}, "jitter"),
        ({"trigger": "interval", "seconds": 5, "args": _deep(900)}, "args"),
        ({"trigger": "interval", "seconds": 5, "kwargs": {"a": _deep(900)}}, "kwargs"),
        ({"trigger": "interval", "seconds": 5, "id": "a\ud800"}, "id"),
        ({"trigger": "interval", "seconds": 5, "id": "reports/daily"}, "id"),
        ({"trigger": "interval", "seconds": 5, "misfire_grace_time": 1e300}, "misfire_grace_time"),
        ({"trigger": "interval", "seconds": 5, "timeout": -1}, "timeout"),
        ({"trigger": "interval", "seconds": 5, "timeout": 0}, "timeout"),
        ({"trigger": "interval", "seconds": 5, "timeout": float("nan")}, "timeout"),
        ({"trigger": "interval", "seconds": 5, "timeout": float("inf")}, "timeout"),
        ({"trigger": "interval", "seconds": 5, "timeout": 1e300}, "timeout"),
        ({"trigger": "interval", "seconds": 5, "timeout": True}, "timeout"),
        ({"trigger": "interval", "seconds": 5, "timeout": "30"}, "timeout"),
        ({"trigger": "interval", "seconds": 0.001}, "seconds"),
        (
            {"trigger": "interval", "seconds": 5, "next_run_time": datetime(1, 1, 1)},
            "next_run_time",
        ),
        (
            {"trigger": "interval", "seconds": 5, "next_run_time": "9999-12-31T23:00:00-05:00"},
            "next_run_time",
        ),
        ({"trigger": "date", "run_date": datetime(9999, 12, 31, 23)}, "run_date"),
        ({"trigger": "cron", "month": 2, "day": 31}, "trigger"),
        ({"trigger": "cron", "year": 9999}, "trigger"),
        ({"trigger": "cron", "hour": 10**5000}, "hour"),
        ({"trigger": "cron", "hour": "1" * 5000}, "hour"),
        ({"trigger": "interval", "seconds": 10**5000}, "seconds"),
        ({"trigger": "interval", "seconds": 5, "timezone": "\ud800"}, "timezone"),
        ({"trigger": "cron", "hour": 1, "end_date": "2020-01-01"}, "trigger"),
        (
            {"trigger": AndTrigger([CronTrigger(month=1), CronTrigger(month=2)])},
            "trigger",
        ),
        (
            {
                "trigger": AndTrigger(
                    [
                        IntervalTrigger(seconds=7, start_date=START),
                        IntervalTrigger(seconds=7, start_date=START + timedelta(microseconds=1)),
                    ]
                )
            },
            "trigger",
        ),
    ],
)
def test_add_job_refuses_with_the_field_and_stores_nothing(
    make_scheduler: Callable[..., Scheduler], options: dict[str, Any], field: str
) -> None:
    scheduler = make_scheduler(clock=ManualClock(START))
    options = {"id": "job", **options}
    with pytest.raises(ConfigurationError) as raised:
        scheduler.add_job(func=jobs.record, **options)
    assert raised.value.field == field, raised.value
    with pytest.raises(ConfigurationError):
        scheduler.add_jobs([{"func": jobs.record, **options}])
    assert scheduler.get_jobs() == []


def test_reschedule_to_a_never_firing_trigger_changes_nothing(scheduler: Scheduler) -> None:
    job = scheduler.add_job(jobs.record, trigger="interval", seconds=30, id="job")
    with pytest.raises(ConfigurationError, match="never fires"):
        scheduler.reschedule_job("job", trigger="cron", month=2, day=30)
    assert scheduler.get_job("job") == job


def test_interval_floor_is_a_setting(make_scheduler: Callable[..., Scheduler]) -> None:
    strict = make_scheduler(settings=EngineSettings(min_interval=60))
    with pytest.raises(ConfigurationError, match="at least 60"):
        strict.add_job(jobs.record, trigger="interval", seconds=59, id="fast")
    with pytest.raises(ConfigurationError, match="at least 60"):
        strict.add_job(
            jobs.record,
            trigger="or",
            triggers=[{"type": "cron", "hour": 1}, {"type": "interval", "seconds": 1}],
            id="nested",
        )
    strict.add_job(jobs.record, trigger="interval", seconds=60, id="slow")
    assert [job.id for job in strict.get_jobs()] == ["slow"]
    config = parse_config({"engine": {"min_interval": 0.5}})
    assert config.engine is not None
    assert config.engine.min_interval == 0.5
    with pytest.raises(ValueError, match="min_interval"):
        EngineSettings(min_interval=-1)


def _finished_job(scheduler: Scheduler, clock: ManualClock) -> None:
    """A paused job whose trigger ends while it is paused."""
    scheduler.add_job(
        jobs.record,
        trigger="interval",
        minutes=10,
        start_date=START,
        end_date=START + timedelta(hours=1),
        id="ends",
    )
    scheduler.pause_job("ends")
    clock.set(START + timedelta(hours=2))


def test_resume_of_a_finished_job_raises_and_keeps_it(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    clock = ManualClock(START)
    scheduler = make_scheduler(clock=clock)
    _finished_job(scheduler, clock)
    before = scheduler.get_job("ends")
    with pytest.raises(JobFinishedError, match="no fire time left"):
        scheduler.resume_job("ends")
    assert scheduler.get_job("ends") == before


def test_rest_resume_of_a_finished_job_is_409_and_keeps_it(database_url: str) -> None:
    clock = ManualClock(START)
    app = Flask(__name__)
    app.config.update(SCHEDULER_API_ENABLED=True, SCHEDULER_ALLOWED_CALLABLES=["tests.jobs:*"])
    extension = APScheduler(Scheduler(database_url, timezone="UTC", clock=clock))
    extension.init_app(app)
    try:
        _finished_job(extension.scheduler, clock)
        client = app.test_client()
        response = client.post("/scheduler/jobs/ends/resume")
        assert response.status_code == 409
        assert "no fire time left" in response.get_json()["error_message"]
        kept = client.get("/scheduler/jobs/ends")
        assert kept.status_code == 200
        assert kept.get_json()["next_run_time"] is None
    finally:
        extension.scheduler.close()
