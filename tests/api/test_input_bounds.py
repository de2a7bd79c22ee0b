"""Input that used to cost the cluster (CPU, rows, a broken listing) or answer 500 is a 400
naming the field, and leaves the store untouched (issue 11, findings 5 and 6)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api.conftest import CheckedClient
from tickwork import limits
from tickwork.flask import APScheduler

GOOD = {"id": "good", "func": "tests.jobs:record", "trigger": "interval", "seconds": 30}
CRON = {"id": "cron", "func": "tests.jobs:record", "trigger": "cron"}


def _stored(scheduler: APScheduler) -> list[dict[str, Any]]:
    return [job.to_dict() for job in scheduler.get_jobs()]


def _nested_and(depth: int) -> dict[str, Any]:
    trigger: dict[str, Any] = {"type": "cron", "hour": 1}
    for _ in range(depth):
        trigger = {"type": "and", "triggers": [trigger]}
    return trigger


def _raw(body: dict[str, Any], **raw_values: str) -> bytes:
    """``body`` as JSON with some values spliced in as raw JSON text (deep nesting, lone
    surrogate escapes) that the test client's own encoder would refuse or mangle."""
    text = json.dumps({**body, **{key: f"@{key}@" for key in raw_values}})
    for key, raw in raw_values.items():
        text = text.replace(json.dumps(f"@{key}@"), raw)
    return text.encode()


_AND_OF_DISJOINT = {
    "type": "and",
    "triggers": [{"type": "cron", "month": 1}, {"type": "cron", "month": 2}],
}
_OR_OF_100 = {"type": "or", "triggers": [{"type": "cron", "hour": 1}] * 100}
_PAST_END = "2000-01-02T00:00:00+00:00"

#: (body, values spliced in as raw JSON, field): each answered 500 or was stored unusable
#: before (findings 5 and 6 of issue 11).
REFUSED: list[tuple[dict[str, Any], dict[str, str], str]] = [
    ({**GOOD, "seconds": 1e30}, {}, "seconds"),
    ({**GOOD, "minutes": 1e300}, {}, "minutes"),
    ({**GOOD, "jitter": 1e300}, {}, "jitter"),
    ({**CRON, "hour": 1, "jitter": 1e300}, {}, "jitter"),
    ({**GOOD, "misfire_grace_time": 1e300}, {}, "misfire_grace_time"),
    (GOOD, {"args": "[" * 900 + "]" * 900}, "args"),
    (GOOD, {"kwargs": '{"a":' * 900 + "1" + "}" * 900}, "kwargs"),
    ({**GOOD, "args": ["x" * (limits.MAX_ARGUMENTS_BYTES + 1)]}, {}, "args"),
    ({**CRON, "trigger": _nested_and(300)}, {}, "trigger"),
    ({**CRON, "trigger": _nested_and(limits.MAX_TRIGGER_DEPTH + 1)}, {}, "triggers"),
    ({**CRON, "trigger": _OR_OF_100}, {}, "triggers"),
    (GOOD, {"id": '"\\ud800"'}, "id"),
    (GOOD, {"args": '["\\udfff"]'}, "args"),
    (GOOD, {"name": '"a\\ud800"'}, "name"),
    ({**GOOD, "id": "a/b"}, {}, "id"),
    ({**GOOD, "id": ".."}, {}, "id"),
    ({**GOOD, "id": "line\nbreak"}, {}, "id"),
    ({**GOOD, "next_run_time": "0001-01-01T00:00:00"}, {}, "next_run_time"),
    ({**GOOD, "next_run_time": "9999-12-31T23:00:00-05:00"}, {}, "next_run_time"),
    ({**GOOD, "next_run_time": "1969-12-31T23:59:59+00:00"}, {}, "next_run_time"),
    ({**GOOD, "start_date": "0001-01-01T00:00:00+05:00"}, {}, "start_date"),
    ({**GOOD, "end_date": "9999-12-31T23:59:59"}, {}, "end_date"),
    ({**CRON, "trigger": "date", "run_date": "9500-01-01T00:00:00"}, {}, "run_date"),
    (
        {**CRON, "trigger": "calendarinterval", "days": 1, "start_date": "0001-01-01"},
        {},
        "start_date",
    ),
    # The floor (EngineSettings.min_interval, 0.1 s by default) against row floods.
    ({**GOOD, "seconds": 0.000001}, {}, "seconds"),
    # Never-matching schedules: they would look paused and could never be resumed.
    ({**CRON, "month": 2, "day": 31}, {}, "trigger"),
    ({**CRON, "trigger": _AND_OF_DISJOINT}, {}, "trigger"),
    ({**GOOD, "start_date": "2000-01-01T00:00:00+00:00", "end_date": _PAST_END}, {}, "trigger"),
    ({**CRON, "hour": 1, "end_date": _PAST_END}, {}, "trigger"),
]


@pytest.mark.parametrize(("body", "raw_values", "field"), REFUSED)
def test_refused_input_is_400_naming_the_field_and_stores_nothing(
    client: CheckedClient,
    scheduler: APScheduler,
    body: dict[str, Any],
    raw_values: dict[str, str],
    field: str,
) -> None:
    client.post("/scheduler/jobs", json={**GOOD, "id": "existing"})
    before = _stored(scheduler)
    raw = _raw(body, **raw_values)
    response = client.post("/scheduler/jobs", data=raw, content_type="application/json")
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field, response.get_json()
    assert _stored(scheduler) == before
    if field == "id":
        return
    # The same fields in a PATCH of the existing job are refused alike.
    changes = {key: value for key, value in body.items() if key not in ("id", "func")}
    raw = _raw(changes, **raw_values)
    response = client.patch("/scheduler/jobs/existing", data=raw, content_type="application/json")
    assert response.status_code == 400, response.get_json()
    assert _stored(scheduler) == before


def test_a_past_date_still_runs_once_as_in_apscheduler(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    body = {**CRON, "trigger": "date", "run_date": "2000-01-01T00:00:00+00:00"}
    response = client.post("/scheduler/jobs", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["next_run_time"] == "2000-01-01T00:00:00+00:00"


def test_edges_of_the_supported_range_are_accepted(client: CheckedClient) -> None:
    early = {**CRON, "id": "early", "trigger": "date", "run_date": "1970-01-01T00:00:00+00:00"}
    late = {**CRON, "id": "late", "trigger": "date", "run_date": "9000-01-01T00:00:00+00:00"}
    for body in (early, late):
        response = client.post("/scheduler/jobs", json=body)
        assert response.status_code == 200, response.get_json()
    assert len(client.get("/scheduler/jobs").get_json()) == 2


def test_list_carries_arguments_only_up_to_a_size(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    big = ["x" * limits.LIST_ARGUMENTS_BYTES]
    assert (
        client.post("/scheduler/jobs", json={**GOOD, "id": "big", "args": big}).status_code == 200
    )
    client.post("/scheduler/jobs", json={**GOOD, "id": "small", "args": [1], "kwargs": {"k": 2}})
    for path in ("/scheduler/jobs", "/scheduler/jobs?limit=10"):
        listed = {job["id"]: job for job in client.get(path).get_json()}
        assert (listed["big"]["args"], listed["big"]["kwargs"]) == ([], {})
        assert listed["big"]["args_truncated"] is True
        assert (listed["small"]["args"], listed["small"]["kwargs"]) == ([1], {"k": 2})
        assert "args_truncated" not in listed["small"]
    whole = client.get("/scheduler/jobs/big").get_json()
    assert whole["args"] == big
    assert "args_truncated" not in whole


# -- fuzzing: random job bodies never give a 500, and a refused one stores nothing ---------

_KEYS = [
    "id", "func", "trigger", "args", "kwargs", "name", "seconds", "minutes", "hours", "weeks",
    "days", "jitter", "start_date", "end_date", "run_date", "next_run_time", "timezone",
    "misfire_grace_time", "max_instances", "coalesce", "hour", "day", "month", "year",
    "triggers", "type", "replace_existing",
]  # fmt: skip
_TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["tests.jobs:record", "interval", "cron", "and", "or", "date", "UTC", "9999-12-31",
     "0001-01-01T00:00:00", "2030-01-01T00:00:00+14:00", "a/b", "..", "*/5", "feb", "31"]
)  # fmt: skip
_NUMBERS = st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
_SCALARS = st.none() | st.booleans() | _NUMBERS | _TEXT
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS), inner),
    max_leaves=12,
)


_VALID: list[dict[str, Any]] = [
    GOOD,
    {**CRON, "hour": "*/5", "jitter": 10},
    {**CRON, "trigger": "date", "run_date": "2031-05-01T10:00:00"},
    {**CRON, "trigger": "calendarinterval", "months": 1, "hour": 3},
    {**CRON, "trigger": {"type": "or", "triggers": [{"type": "cron", "minute": 5}]}},
]


@st.composite
def job_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Random bodies, and (as often) valid ones with one or two fields changed at random,
    so that both the refusals and the accepted paths are explored."""
    changes: dict[str, Any] = draw(st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=8))
    if draw(st.booleans()):
        return changes
    body = {**draw(st.sampled_from(_VALID)), "id": draw(_TEXT.filter(bool))}
    changes = dict(list(changes.items())[: draw(st.integers(0, 2))])
    return {**body, **changes}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=job_bodies(), method=st.sampled_from(["post", "patch"]))
def test_fuzzed_job_bodies_never_500_and_refusals_store_nothing(
    client: CheckedClient, scheduler: APScheduler, body: dict[str, Any], method: str
) -> None:
    if scheduler.get_job("target") is None:
        client.post("/scheduler/jobs", json={**GOOD, "id": "target"})
    before = _stored(scheduler)
    if method == "post":
        response = client.post("/scheduler/jobs", json=body)
    else:
        response = client.patch("/scheduler/jobs/target", json=body)
    assert response.status_code < 500, (body, response.get_json())
    event(f"{method} {response.status_code}")
    if response.status_code >= 400:
        assert _stored(scheduler) == before, body
    else:
        job_id = response.get_json()["id"]
        path = f"/scheduler/jobs/{quote(job_id, safe='')}"  # every stored id is addressable
        assert client.get(path).status_code == 200
        assert client.get("/scheduler/jobs").status_code == 200
        if job_id != "target":
            assert client.delete(path).status_code == 204


def test_every_accepted_id_is_addressable(client: CheckedClient) -> None:
    job_id = "a b?c#d%e:f.ü"
    assert client.post("/scheduler/jobs", json={**GOOD, "id": job_id}).status_code == 200
    path = f"/scheduler/jobs/{quote(job_id, safe='')}"
    assert client.get(path).get_json()["id"] == job_id
    assert client.post(f"{path}/pause").status_code == 200
    assert client.delete(path).status_code == 204
