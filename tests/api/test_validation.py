"""Bad input gets a 400 (or 403) naming the field, never a 500, and changes nothing."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tests.api.conftest import CheckedClient
from tickwork.flask import APScheduler

GOOD = {"id": "good", "func": "tests.jobs:record", "trigger": "interval", "seconds": 30}
BARE = {"id": "bare", "func": "tests.jobs:record"}


def _stored(scheduler: APScheduler) -> list[dict[str, Any]]:
    return [job.to_dict() for job in scheduler.get_jobs()]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"func": "tests.jobs:record"}, "id"),
        ({"id": "", "func": "tests.jobs:record"}, "id"),
        ({"id": 5, "func": "tests.jobs:record"}, "id"),
        ({"id": "x"}, "func"),
        ({"id": "x", "func": 3}, "func"),
        ({**GOOD, "id": "x" * 192}, "id"),
        ({**GOOD, "trigger": "weekly"}, "trigger"),
        ({**GOOD, "trigger": 7}, "trigger"),
        ({**BARE, "trigger": {"type": "cron", "hour": 1}, "hour": 2}, "hour"),
        ({**GOOD, "secs": 30}, "secs"),
        ({**GOOD, "seconds": -1}, "seconds"),
        ({**GOOD, "seconds": "soon"}, "seconds"),
        ({**BARE, "trigger": "cron", "seconds": 1}, "seconds"),
        ({**BARE, "trigger": "cron", "hour": "25"}, "hour"),
        ({**BARE, "trigger": "date", "run_date": "tomorrow"}, "run_date"),
        ({**GOOD, "start_date": "2024-13-01"}, "start_date"),
        ({**GOOD, "timezone": "Mars/Olympus"}, "timezone"),
        ({**GOOD, "next_run_time": "not a date"}, "next_run_time"),
        ({**GOOD, "args": "abc"}, "args"),
        ({**GOOD, "args": {"a": 1}}, "args"),
        ({**GOOD, "kwargs": [1]}, "kwargs"),
        ({**GOOD, "max_instances": 0}, "max_instances"),
        ({**GOOD, "max_instances": "2"}, "max_instances"),
        ({**GOOD, "max_instances": 2**40}, "max_instances"),
        ({**GOOD, "misfire_grace_time": -5}, "misfire_grace_time"),
        ({**GOOD, "timeout": -1}, "timeout"),
        ({**GOOD, "timeout": 0}, "timeout"),
        ({**GOOD, "timeout": 1e300}, "timeout"),
        ({**GOOD, "timeout": True}, "timeout"),
        ({**GOOD, "timeout": "30"}, "timeout"),
        ({**GOOD, "coalesce": "yes"}, "coalesce"),
        ({**GOOD, "executor": "gpu"}, "executor"),
        ({**GOOD, "jobstore": "other"}, "jobstore"),
        ({**GOOD, "name": 12}, "name"),
        ({**GOOD, "replace_existing": "yes"}, "replace_existing"),
        ({**GOOD, "func": "tests.jobs"}, "func"),
        ({**GOOD, "func": "tests.jobs:missing"}, "func"),
        ({**GOOD, "args": ["\x00"]}, "args"),
    ],
)
def test_bad_job_is_400_naming_the_field_and_stores_nothing(
    client: CheckedClient, scheduler: APScheduler, body: dict[str, Any], field: str
) -> None:
    client.post("/scheduler/jobs", json={**GOOD, "id": "existing"})
    before = _stored(scheduler)
    response = client.post("/scheduler/jobs", json=body)
    assert response.status_code in (400, 403), response.get_json()
    assert field in response.get_json()["error_message"]
    assert _stored(scheduler) == before


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[1, 2]", b'"text"', b"null", b'{"id": NaN}', b'{"a": 1e400}', b"\xff"],
)
def test_malformed_json_is_400(client: CheckedClient, scheduler: APScheduler, raw: bytes) -> None:
    response = client.post("/scheduler/jobs", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"
    assert scheduler.count_jobs() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "other"}, "id"),
        ({"trigger": "weekly"}, "trigger"),
        ({"seconds": -1}, "seconds"),
        ({"secs": 1}, "secs"),
        ({"args": "abc"}, "args"),
        ({"kwargs": 1}, "kwargs"),
        ({"max_instances": 0}, "max_instances"),
        ({"max_instances": 2**31}, "max_instances"),
        ({"next_run_time": "later"}, "next_run_time"),
        ({"replace_existing": True}, "replace_existing"),
        ({"executor": "gpu"}, "executor"),
        ({"name": "fine", "misfire_grace_time": "slow"}, "misfire_grace_time"),
        ({"name": "fine", "timeout": 0}, "timeout"),
        ({"timeout": False}, "timeout"),
        ({"func": "tests.jobs:missing"}, "func"),
    ],
)
def test_bad_patch_is_400_and_changes_nothing(
    client: CheckedClient, scheduler: APScheduler, body: dict[str, Any], field: str
) -> None:
    client.post("/scheduler/jobs", json=GOOD)
    before = _stored(scheduler)
    response = client.patch("/scheduler/jobs/good", json=body)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["error_message"]
    assert _stored(scheduler) == before


def test_empty_patch_changes_nothing(client: CheckedClient, scheduler: APScheduler) -> None:
    client.post("/scheduler/jobs", json=GOOD)
    before = _stored(scheduler)
    response = client.patch("/scheduler/jobs/good", json={})
    assert response.status_code == 200
    assert _stored(scheduler) == before


@pytest.mark.parametrize("method", ["post", "patch"])
def test_refused_callable_is_403_and_never_imported(
    client: CheckedClient, scheduler: APScheduler, method: str
) -> None:
    sys.modules.pop("tests.api.never_imported", None)
    client.post("/scheduler/jobs", json=GOOD)
    before = _stored(scheduler)
    body = {**GOOD, "func": "tests.api.never_imported:payload"}
    if method == "post":
        response = client.post("/scheduler/jobs", json={**body, "id": "evil"})
    else:
        response = client.patch("/scheduler/jobs/good", json={"func": body["func"]})
    assert response.status_code == 403
    assert response.get_json()["field"] == "func"
    assert "tests.api.never_imported" not in sys.modules
    assert _stored(scheduler) == before


def test_registered_tasks_may_be_scheduled_by_name(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    def cleanup() -> str:
        return "clean"

    scheduler.task(name="cleanup")(cleanup)
    response = client.post(
        "/scheduler/jobs", json={"id": "c", "func": "cleanup", "trigger": "interval", "hours": 1}
    )
    assert response.status_code == 200
    assert response.get_json()["func"] == "cleanup"
    assert client.post("/scheduler/jobs/c/run").status_code == 200
    assert scheduler.get_runs("c")[0].result == '"clean"'


def test_nul_in_a_path_is_404(client: CheckedClient) -> None:
    assert client.get("/scheduler/jobs/a%00b").status_code == 404
