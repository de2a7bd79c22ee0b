"""Scheduler routes: Flask-APScheduler's actions and the scheduler service spec."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.api.conftest import CheckedClient
from tests.conftest import eventually
from tickwork.flask import STATE_PAUSED, STATE_RUNNING, APScheduler


@pytest.mark.parametrize("path", ["/scheduler", "/scheduler/"])
def test_get_scheduler_answers_both_paths_without_redirect(
    client: CheckedClient, scheduler: APScheduler, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    info = response.get_json()
    assert info["current_host"] == scheduler.host_name
    assert info["allowed_hosts"] == ["*"]
    assert info["running"] is False
    assert info["is_paused"] is False
    assert info["state"] == "stopped"


def test_get_scheduler_says_whether_the_node_is_healthy(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    info = client.get("/scheduler").get_json()
    assert (info["healthy"], info["health_reason"]) == (True, None)
    scheduler.scheduler.engine.health.fail("thread tickwork-recorder keeps crashing")
    info = client.get("/scheduler").get_json()
    assert (info["healthy"], info["health_reason"]) == (
        False,
        "thread tickwork-recorder keeps crashing",
    )


@pytest.mark.parametrize("path", ["/scheduler", "/scheduler/"])
def test_patch_scheduler_pauses_with_201_and_location(
    client: CheckedClient, scheduler: APScheduler, path: str
) -> None:
    response = client.patch(path, json={"is_paused": True})
    assert response.status_code == 201
    assert response.headers["Location"] == path
    assert response.get_json()["is_paused"] is True
    assert scheduler.get_scheduler_state().is_paused is True
    assert client.get(path).get_json()["is_paused"] is True
    assert client.patch(path, json={"is_paused": False}).get_json()["is_paused"] is False


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, "no fields"),
        ({"is_paused": True, "colour": "red", "size": 1}, "colour, size"),
        ({"is_paused": "yes"}, "is_paused"),
        ([True], "JSON object"),
    ],
)
def test_patch_scheduler_rejects_bad_bodies(
    client: CheckedClient, scheduler: APScheduler, body: object, named: str
) -> None:
    response = client.patch("/scheduler", json=body)
    assert response.status_code == 400
    assert named in response.get_json()["error_message"]
    assert scheduler.get_scheduler_state().is_paused is False


def test_pause_and_resume_set_the_global_flag(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    scheduler.start()
    response = client.post("/scheduler/pause")
    assert (response.status_code, response.data) == (204, b"")
    assert scheduler.get_scheduler_state().is_paused is True
    # A heartbeat in flight may briefly report the older state; the next one corrects it.
    eventually(lambda: scheduler.state == STATE_PAUSED)
    assert client.post("/scheduler/resume").status_code == 204
    assert scheduler.get_scheduler_state().is_paused is False
    eventually(lambda: scheduler.state == STATE_RUNNING)


def test_start_and_shutdown(client: CheckedClient, scheduler: APScheduler) -> None:
    assert client.post("/scheduler/start").status_code == 204
    assert scheduler.state == STATE_RUNNING
    again = client.post("/scheduler/start")
    assert again.status_code == 400
    assert "already running" in again.get_json()["error_message"]
    assert client.post("/scheduler/shutdown", json={"wait": False}).status_code == 204
    assert not scheduler.running
    stopped = client.post("/scheduler/shutdown")
    assert stopped.status_code == 400
    assert "not running" in stopped.get_json()["error_message"]


@pytest.mark.parametrize("body", [{"wait": "no"}, {"hurry": True}, "not json"])
def test_shutdown_rejects_bad_bodies(
    client: CheckedClient, scheduler: APScheduler, body: object
) -> None:
    scheduler.start()
    if isinstance(body, str):
        response = client.post("/scheduler/shutdown", data=body, content_type="application/json")
    else:
        response = client.post("/scheduler/shutdown", json=body)
    assert response.status_code == 400
    assert scheduler.running


def test_start_does_nothing_on_a_host_not_allowed(
    make_app: Callable[..., tuple[Flask, APScheduler]],
) -> None:
    app, scheduler = make_app(SCHEDULER_ALLOWED_HOSTS=["some-other-host"])
    response = app.test_client().post("/scheduler/start")
    assert response.status_code == 204
    assert not scheduler.running
    assert app.test_client().get("/scheduler").get_json()["allowed_hosts"] == ["some-other-host"]
