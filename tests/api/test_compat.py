"""Side by side with Flask-APScheduler 1.13: the same requests give the same job JSON."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import flask_apscheduler
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import CheckedClient

DATES = {"start_date", "end_date", "run_date", "next_run_time"}
JOBS: list[dict[str, Any]] = [
    {"func": "tests.jobs:record", "trigger": "interval", "minutes": 90, "args": [1, "a"]},
    {"func": "tests.jobs:record", "trigger": "interval", "weeks": 1, "days": 2, "seconds": 5},
    {
        "func": "tests.jobs:add",
        "trigger": "cron",
        "hour": 9,
        "minute": "*/5",
        "kwargs": {"a": 1, "b": 2},
    },
    {"func": "tests.jobs:record", "trigger": "cron", "day_of_week": "mon-fri", "hour": "8"},
    {
        "func": "tests.jobs:record",
        "trigger": "date",
        "run_date": "2099-05-06T07:08:09+00:00",
        "name": "once",
    },
    {
        "func": "tests.jobs:record",
        "trigger": "interval",
        "hours": 2,
        "start_date": "2098-01-01T00:00:00+00:00",
        "end_date": "2099-01-01T00:00:00+00:00",
        "misfire_grace_time": 60,
        "max_instances": 2,
    },
]


@pytest.fixture
def theirs() -> Iterator[FlaskClient]:
    app = Flask("flask_apscheduler_app")
    app.config.update(SCHEDULER_API_ENABLED=True, SCHEDULER_TIMEZONE="UTC")
    extension = flask_apscheduler.APScheduler(app=app)
    extension.start(paused=True)
    yield app.test_client()
    extension.shutdown(wait=False)


@pytest.mark.parametrize("index", range(len(JOBS)))
def test_job_json_matches_flask_apscheduler(
    client: CheckedClient, theirs: FlaskClient, index: int
) -> None:
    body = {"id": f"job{index}", **JOBS[index]}
    their_response = theirs.post("/scheduler/jobs", json=body)
    our_response = client.post("/scheduler/jobs", json=body)
    assert our_response.status_code == their_response.status_code == 200
    their_job, our_job = their_response.get_json(), our_response.get_json()
    assert set(their_job) <= set(our_job)
    for key, value in their_job.items():
        if key in DATES:  # both computed from "now" when not given: equal within a second
            ours = datetime.fromisoformat(our_job[key])
            assert ours.utcoffset() is not None
            assert abs(ours - datetime.fromisoformat(value)).total_seconds() < 1, key
        else:
            assert our_job[key] == value, key
    assert client.get(f"/scheduler/jobs/job{index}").get_json() == our_job


def test_status_codes_match_flask_apscheduler(client: CheckedClient, theirs: FlaskClient) -> None:
    job = {"id": "x", **JOBS[0]}
    requests: list[tuple[str, str, Any]] = [
        ("POST", "/scheduler/jobs", job),
        ("POST", "/scheduler/jobs", job),
        ("GET", "/scheduler/jobs/x", None),
        ("GET", "/scheduler/jobs/nope", None),
        ("PATCH", "/scheduler/jobs/x", {"name": "y"}),
        ("PATCH", "/scheduler/jobs/nope", {"name": "y"}),
        ("POST", "/scheduler/jobs/x/pause", None),
        ("POST", "/scheduler/jobs/x/resume", None),
        ("POST", "/scheduler/jobs/nope/pause", None),
        ("POST", "/scheduler/jobs/nope/resume", None),
        ("POST", "/scheduler/jobs/nope/run", None),
        ("DELETE", "/scheduler/jobs/x", None),
        ("DELETE", "/scheduler/jobs/x", None),
        ("POST", "/scheduler/pause", None),
        ("POST", "/scheduler/resume", None),
        ("GET", "/scheduler", None),
        ("GET", "/scheduler/jobs", None),
    ]
    for method, path, body in requests:
        their_response = theirs.open(path, method=method, json=body)
        our_response = client.open(path, method=method, json=body)
        assert our_response.status_code == their_response.status_code, (method, path, body)
        if their_response.status_code >= 400:
            assert our_response.get_json() == their_response.get_json()
