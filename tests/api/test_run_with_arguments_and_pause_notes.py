"""``POST /jobs/<id>/run`` with ``{"args", "kwargs"}`` and ``POST /jobs/<id>/pause`` with
``{"note"}`` (issue 14, items 5 and 6): on both backends, every response checked against
the OpenAPI document; who asked is the authenticated user or token; bad bodies are 400
naming the field and change nothing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests import jobs
from tests.api.conftest import CheckedClient
from tests.api.openapi_check import OpenApiChecker
from tickwork import ConfigurationError
from tickwork.flask import APScheduler, HTTPBasicAuth, HTTPBearerAuth
from tickwork.limits import LIST_ARGUMENTS_BYTES, MAX_ARGUMENTS_BYTES, MAX_PAUSE_NOTE_CHARS

MakeApp = Callable[..., tuple[Flask, APScheduler]]
JOB = {
    "id": "j",
    "func": "tests.jobs:record_kwargs",
    "trigger": "interval",
    "hours": 1,
    "args": [1],
    "kwargs": {"own": True},
}
TOKEN = "a-bearer-token-of-32-characters!"
TOKEN_NAME = "token:" + hashlib.sha256(TOKEN.encode()).hexdigest()[:12]


def _basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode("latin-1")).decode()
    return {"Authorization": f"Basic {encoded}"}


def _checked(app: Flask) -> CheckedClient:
    client = app.test_client()
    assert isinstance(client, CheckedClient)
    client.checker = OpenApiChecker(app.test_client().get("/scheduler/openapi.json").get_json())
    return client


@pytest.fixture
def job_client(client: CheckedClient) -> CheckedClient:
    assert client.post("/scheduler/jobs", json=JOB).status_code == 200
    return client


# -- run now with arguments ------------------------------------------------------------------


def test_a_run_with_arguments_calls_them_and_history_shows_them(
    job_client: CheckedClient, scheduler: APScheduler
) -> None:
    response = job_client.post("/scheduler/jobs/j/run", json={"args": [2], "kwargs": {"x": "y"}})

    assert response.status_code == 200
    assert (response.get_json()["args"], response.get_json()["kwargs"]) == ([1], {"own": True})
    assert jobs.calls == [(2, {"x": "y"})]
    [run] = job_client.get("/scheduler/jobs/j/runs").get_json()
    assert (run["args"], run["kwargs"], run["requested_by"]) == ([2], {"x": "y"}, None)
    assert run["manual"] is True
    assert job_client.get("/scheduler/runs?job_id=j").get_json() == [run]
    assert scheduler.get_job("j").args == (1,)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body",
    [None, b"", b"  \n", {}, {"args": None, "kwargs": None}],
    ids=["no body", "empty", "blank", "{}", "nulls"],
)
def test_no_body_or_no_arguments_runs_the_jobs_own(
    job_client: CheckedClient, scheduler: APScheduler, body: Any
) -> None:
    if isinstance(body, bytes):
        response = job_client.post(
            "/scheduler/jobs/j/run", data=body, content_type="application/json"
        )
    elif body is None:
        response = job_client.post("/scheduler/jobs/j/run")
    else:
        response = job_client.post("/scheduler/jobs/j/run", json=body)
    assert response.status_code == 200, response.get_json()
    assert jobs.calls == [(1, {"own": True})]
    [run] = scheduler.get_runs("j")
    assert (run.args, run.kwargs, run.requested_by) == (None, None, None)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"[1, 2]", "body"),
        (b'"text"', "body"),
        (b"5", "body"),
        (b"{", "body"),
        (b'{"args": [NaN]}', "body"),
        (b'{"argz": []}', "argz"),
        (b'{"args": [], "jobstore": "default"}', "jobstore"),
        (b'{"requested_by": "mallory"}', "requested_by"),  # told by auth, not the client
        (b'{"args": {"a": 1}}', "args"),
        (b'{"args": "abc"}', "args"),
        (b'{"args": 5}', "args"),
        (b'{"kwargs": [1]}', "kwargs"),
        (b'{"kwargs": "a=1"}', "kwargs"),
        (b'{"args": ["nul \\u0000"]}', "args"),
        (b'{"args": ["\\ud800"]}', "args"),
        (b'{"kwargs": {"k": ' + b"[" * 40 + b"]" * 40 + b"}}", "kwargs"),
        (b'{"args": ["' + b"x" * MAX_ARGUMENTS_BYTES + b'"]}', "args"),
    ],
)
def test_a_bad_run_body_is_400_naming_the_field_and_records_nothing(
    job_client: CheckedClient, scheduler: APScheduler, raw: bytes, field: str
) -> None:
    response = job_client.post("/scheduler/jobs/j/run", data=raw, content_type="application/json")
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert scheduler.get_runs("j") == []
    assert jobs.calls == []


def test_a_run_of_a_missing_job_is_404_whatever_its_body(job_client: CheckedClient) -> None:
    assert job_client.post("/scheduler/jobs/nope/run", json={"args": [1]}).status_code == 404


def test_history_lists_big_arguments_of_a_run_without_them(
    job_client: CheckedClient, scheduler: APScheduler
) -> None:
    big = ["x" * (LIST_ARGUMENTS_BYTES + 1)]
    assert job_client.post("/scheduler/jobs/j/run", json={"args": big}).status_code == 200
    [run] = job_client.get("/scheduler/jobs/j/runs").get_json()
    assert (run["args"], run["kwargs"], run["args_truncated"]) == (None, None, True)
    assert scheduler.get_runs("j")[0].args == big  # the Python API has them whole


def test_a_basic_user_is_recorded_as_who_asked(make_app: MakeApp) -> None:
    app, extension = make_app(SCHEDULER_AUTH=HTTPBasicAuth())
    extension.authenticate(lambda auth: auth["password"] == "pw")
    client = _checked(app)
    headers = _basic("alice", "pw")
    assert client.post("/scheduler/jobs", json=JOB, headers=headers).status_code == 200
    assert client.post("/scheduler/jobs/j/run", headers=headers).status_code == 200
    paused = client.post("/scheduler/jobs/j/pause", json={"note": "why"}, headers=headers)
    assert paused.get_json()["paused_by"] == "alice"
    [run] = client.get("/scheduler/jobs/j/runs", headers=headers).get_json()
    assert run["requested_by"] == "alice"


def test_a_hostile_user_name_is_recorded_readable_and_short(make_app: MakeApp) -> None:
    """A callback may accept any name; what is recorded is escaped and cut to length."""
    app, extension = make_app(SCHEDULER_AUTH=HTTPBasicAuth())
    extension.authenticate(lambda auth: True)
    client = _checked(app)
    hostile = "eve\x1b[2J\x00\u202e" + "x" * 500
    headers = {
        "Authorization": "Basic "
        + base64.b64encode(f"{hostile}:pw".encode()).decode()  # decoded as Latin-1
    }
    assert client.post("/scheduler/jobs", json=JOB, headers=headers).status_code == 200
    assert client.post("/scheduler/jobs/j/run", headers=headers).status_code == 200
    [run] = client.get("/scheduler/jobs/j/runs", headers=headers).get_json()
    assert run["requested_by"].startswith("eve\\x1b[2J\\x00")
    assert len(run["requested_by"]) == 200
    assert run["requested_by"].isprintable()


@pytest.mark.parametrize("through", ["config tokens", "bearer callback"])
def test_a_token_is_recorded_by_its_name_never_itself(make_app: MakeApp, through: str) -> None:
    if through == "config tokens":
        app, _ = make_app(SCHEDULER_API_TOKENS=[TOKEN])
    else:
        app, extension = make_app(SCHEDULER_AUTH=HTTPBearerAuth())
        extension.authenticate(lambda auth: auth["token"] == TOKEN)
    client = _checked(app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/scheduler/jobs", json=JOB, headers=headers).status_code == 200
    assert client.post("/scheduler/jobs/j/run", json={}, headers=headers).status_code == 200
    [run] = client.get("/scheduler/jobs/j/runs", headers=headers).get_json()
    assert run["requested_by"] == TOKEN_NAME
    paused = client.post("/scheduler/jobs/j/pause", headers=headers).get_json()
    assert paused["paused_by"] == TOKEN_NAME
    assert TOKEN not in str(paused) + str(run)


# -- pause with a note -----------------------------------------------------------------------


def test_a_note_is_shown_on_the_job_until_it_is_resumed(job_client: CheckedClient) -> None:
    paused = job_client.post("/scheduler/jobs/j/pause", json={"note": "DB migration"})

    assert paused.status_code == 200
    job = paused.get_json()
    assert job["next_run_time"] is None
    assert (job["paused_note"], job["paused_by"]) == ("DB migration", None)
    assert job["paused_at"] is not None
    assert job_client.patch("/scheduler/jobs/j", json={"name": "n"}).get_json()["paused_note"] == (
        "DB migration"
    )
    listed = job_client.get("/scheduler/jobs").get_json()
    assert listed[0]["paused_note"] == "DB migration"
    resumed = job_client.post("/scheduler/jobs/j/resume").get_json()
    assert (resumed["paused_note"], resumed["paused_by"], resumed["paused_at"]) == (None,) * 3


def test_a_pause_without_a_body_works_as_before(job_client: CheckedClient) -> None:
    job = job_client.post("/scheduler/jobs/j/pause").get_json()
    assert (job["next_run_time"], job["paused_note"]) == (None, None)
    assert job["paused_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1], "body"),
        ("note", "body"),
        ({"note": 5}, "note"),
        ({"note": ["a"]}, "note"),
        ({"note": {"text": "a"}}, "note"),
        ({"note": "line\nbreak"}, "note"),
        ({"note": "\x1b[31mred"}, "note"),
        ({"note": "nul\x00"}, "note"),
        ({"note": "x" * (MAX_PAUSE_NOTE_CHARS + 1)}, "note"),
        ({"note": "ok", "paused_by": "mallory"}, "paused_by"),
        ({"reason": "typo"}, "reason"),
    ],
)
def test_a_bad_pause_body_is_400_naming_the_field_and_the_job_is_unchanged(
    job_client: CheckedClient, scheduler: APScheduler, body: Any, field: str
) -> None:
    before = scheduler.get_job("j")
    response = job_client.post("/scheduler/jobs/j/pause", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field
    assert scheduler.get_job("j") == before


def test_pause_note_fields_cannot_be_set_by_a_patch(
    job_client: CheckedClient, scheduler: APScheduler
) -> None:
    """Who paused is told by auth, never by the client."""
    before = scheduler.get_job("j")
    response = job_client.patch("/scheduler/jobs/j", json={"paused_by": "mallory"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "paused_by"
    assert scheduler.get_job("j") == before


def test_the_extension_pauses_with_a_note_and_refuses_one_before_init_app(
    job_client: CheckedClient, scheduler: APScheduler
) -> None:
    job = scheduler.pause_job("j", note="maintenance", requested_by="ops")
    assert (job.paused_note, job.paused_by) == ("maintenance", "ops")
    pending = APScheduler()
    pending.add_job("p", "tests.jobs:record", trigger="interval", hours=1)
    assert pending.pause_job("p").next_run_time is None
    with pytest.raises(ConfigurationError, match="init_app"):
        pending.pause_job("p", note="maintenance")
