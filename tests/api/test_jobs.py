"""Flask-APScheduler's job routes: paths, status codes and job JSON, on both backends."""

from __future__ import annotations

from datetime import datetime

from tests import jobs
from tests.api.conftest import CheckedClient
from tests.conftest import eventually
from tickwork import Outcome
from tickwork.flask import APScheduler

INTERVAL = {"id": "every", "func": "tests.jobs:record", "trigger": "interval", "minutes": 90}


def test_add_job_returns_the_job_in_flask_apschedulers_format(client: CheckedClient) -> None:
    response = client.post("/scheduler/jobs", json={**INTERVAL, "args": [1, "a"]})
    assert response.status_code == 200
    job = response.get_json()
    assert job["id"] == "every"
    assert job["name"] == "every"  # defaults to the id, as Flask-APScheduler
    assert job["func"] == "tests.jobs:record"
    assert job["args"] == [1, "a"]
    assert job["kwargs"] == {}
    assert job["trigger"] == "interval"
    assert (job["hours"], job["minutes"]) == (1, 30)
    assert "seconds" not in job
    assert "weeks" not in job
    assert job["misfire_grace_time"] == 1.0
    assert job["max_instances"] == 1
    assert datetime.fromisoformat(job["next_run_time"]).utcoffset() is not None


def test_cron_fields_are_strings(client: CheckedClient) -> None:
    body = {"id": "c", "func": "tests.jobs:record", "trigger": "cron", "hour": 9, "minute": "*/5"}
    job = client.post("/scheduler/jobs", json=body).get_json()
    assert (job["trigger"], job["hour"], job["minute"]) == ("cron", "9", "*/5")
    assert "second" not in job


def test_nested_trigger_object_is_accepted(client: CheckedClient) -> None:
    body = {
        "id": "d",
        "func": "tests.jobs:record",
        "trigger": {"type": "date", "run_date": "2099-01-02T03:04:05+01:00"},
    }
    job = client.post("/scheduler/jobs", json=body).get_json()
    assert job["trigger"] == "date"
    instant = datetime.fromisoformat("2099-01-02T03:04:05+01:00")
    assert datetime.fromisoformat(job["run_date"]) == instant  # shown in the job's zone, UTC
    assert job["run_date"] == "2099-01-02T02:04:05+00:00"
    assert datetime.fromisoformat(job["next_run_time"]) == instant


def test_duplicate_id_is_409_and_replace_existing_replaces(client: CheckedClient) -> None:
    assert client.post("/scheduler/jobs", json=INTERVAL).status_code == 200
    response = client.post("/scheduler/jobs", json=INTERVAL)
    assert response.status_code == 409
    assert response.get_json() == {"error_message": "Job every already exists."}
    replaced = client.post(
        "/scheduler/jobs", json={**INTERVAL, "minutes": 5, "replace_existing": True}
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["minutes"] == 5


def test_get_job_and_404(client: CheckedClient) -> None:
    client.post("/scheduler/jobs", json=INTERVAL)
    assert client.get("/scheduler/jobs/every").get_json()["id"] == "every"
    missing = client.get("/scheduler/jobs/nope")
    assert missing.status_code == 404
    assert missing.get_json() == {"error_message": "Job nope not found"}


def test_get_jobs_is_a_plain_list_by_next_run_time(client: CheckedClient) -> None:
    assert client.get("/scheduler/jobs").get_json() == []
    for job_id, minutes in (("a", 30), ("b", 10), ("c", 20)):
        client.post("/scheduler/jobs", json={**INTERVAL, "id": job_id, "minutes": minutes})
    client.post("/scheduler/jobs/b/pause")
    response = client.get("/scheduler/jobs")
    assert "Link" not in response.headers
    assert [job["id"] for job in response.get_json()] == ["c", "a", "b"]  # paused last


def test_get_jobs_paginates_by_id_with_a_next_link(client: CheckedClient) -> None:
    for index in range(5):
        client.post("/scheduler/jobs", json={**INTERVAL, "id": f"job-{index}"})
    seen: list[str] = []
    url = "/scheduler/jobs?limit=2"
    while url:
        response = client.get(url)
        seen += [job["id"] for job in response.get_json()]
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
    assert seen == [f"job-{index}" for index in range(5)]
    assert client.get("/scheduler/jobs?after=job-3").get_json()[0]["id"] == "job-4"


def test_delete_job(client: CheckedClient, scheduler: APScheduler) -> None:
    client.post("/scheduler/jobs", json=INTERVAL)
    response = client.delete("/scheduler/jobs/every")
    assert (response.status_code, response.data) == (204, b"")
    assert scheduler.get_job("every") is None
    assert client.delete("/scheduler/jobs/every").status_code == 404


def test_patch_options_and_trigger(client: CheckedClient) -> None:
    client.post("/scheduler/jobs", json=INTERVAL)
    response = client.patch(
        "/scheduler/jobs/every",
        json={"name": "renamed", "args": [2], "max_instances": 3, "misfire_grace_time": 30},
    )
    assert response.status_code == 200
    job = response.get_json()
    assert (job["name"], job["args"], job["max_instances"]) == ("renamed", [2], 3)
    assert job["misfire_grace_time"] == 30
    rescheduled = client.patch(
        "/scheduler/jobs/every", json={"trigger": "cron", "hour": "4", "minute": "5"}
    ).get_json()
    assert (rescheduled["trigger"], rescheduled["hour"], rescheduled["minute"]) == (
        "cron",
        "4",
        "5",
    )
    next_run = datetime.fromisoformat(rescheduled["next_run_time"])
    assert (next_run.hour, next_run.minute) == (4, 5)


def test_patch_trigger_fields_alone_merge_into_the_current_trigger(
    client: CheckedClient,
) -> None:
    client.post("/scheduler/jobs", json=INTERVAL)
    job = client.patch("/scheduler/jobs/every", json={"minutes": 5}).get_json()
    assert (job["trigger"], job["hours"], job["minutes"]) == ("interval", 1, 5)


def test_patch_unknown_job_is_404(client: CheckedClient) -> None:
    assert client.patch("/scheduler/jobs/nope", json={"name": "x"}).status_code == 404
    assert client.patch("/scheduler/jobs/nope", json={"minutes": 1}).status_code == 404


def test_pause_and_resume_job(client: CheckedClient) -> None:
    client.post("/scheduler/jobs", json=INTERVAL)
    paused = client.post("/scheduler/jobs/every/pause")
    assert paused.status_code == 200
    assert paused.get_json()["next_run_time"] is None
    resumed = client.post("/scheduler/jobs/every/resume")
    assert resumed.status_code == 200
    assert resumed.get_json()["next_run_time"] is not None
    assert client.post("/scheduler/jobs/nope/pause").status_code == 404
    assert client.post("/scheduler/jobs/nope/resume").status_code == 404


def test_run_job_while_stopped_runs_inline_and_is_recorded(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    client.post("/scheduler/jobs", json={**INTERVAL, "args": ["now"]})
    response = client.post("/scheduler/jobs/every/run")
    assert response.status_code == 200
    assert response.get_json()["id"] == "every"
    assert ("now",) in jobs.calls
    [run] = scheduler.get_runs("every")
    assert (run.outcome, run.manual) == (Outcome.SUCCEEDED, True)
    assert client.post("/scheduler/jobs/nope/run").status_code == 404


def test_run_job_while_running_goes_through_the_executor(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    client.post("/scheduler/jobs", json={**INTERVAL, "args": ["executor"]})
    scheduler.start()
    assert client.post("/scheduler/jobs/every/run").status_code == 200
    eventually(lambda: ("executor",) in jobs.calls)
    assert scheduler.scheduler.wait_idle(5)
    [run] = scheduler.get_runs("every")
    assert run.node_id == scheduler.scheduler.node_id
    assert run.outcome is Outcome.SUCCEEDED


def test_jobs_fire_inside_the_app_context(client: CheckedClient, scheduler: APScheduler) -> None:
    body = {"id": "ctx", "func": "tests.api.context_jobs:app_name", "trigger": "date"}
    scheduler.scheduler.registry.allowed_patterns += ("tests.api.context_jobs:*",)
    scheduler.start()
    assert client.post("/scheduler/jobs", json=body).status_code == 200
    eventually(lambda: scheduler.get_runs("ctx", outcome="succeeded"))
    [run] = scheduler.get_runs("ctx")
    assert run.result is not None
    assert "tests.api.conftest" in run.result
