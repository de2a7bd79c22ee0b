"""Nodes and run history, with filters and keyset pagination."""

from __future__ import annotations

import pytest

from tests import jobs
from tests.api.conftest import CheckedClient
from tickwork.flask import APScheduler

JOB = {"id": "j", "func": "tests.jobs:record", "trigger": "interval", "hours": 1}


def test_nodes_list_get_and_patch(client: CheckedClient, scheduler: APScheduler) -> None:
    assert client.get("/scheduler/nodes").get_json() == []
    scheduler.start()
    node_id = scheduler.scheduler.node_id
    [node] = client.get("/scheduler/nodes").get_json()
    assert (node["id"], node["state"], node["is_paused"]) == (node_id, "running", False)
    assert client.get(f"/scheduler/nodes/{node_id}").get_json()["id"] == node_id
    response = client.patch(f"/scheduler/nodes/{node_id}", json={"is_paused": True})
    assert response.status_code == 201
    assert response.headers["Location"] == f"/scheduler/nodes/{node_id}"
    assert response.get_json()["is_paused"] is True
    assert scheduler.get_node().is_paused is True
    scheduler.shutdown()
    assert client.get("/scheduler/nodes").get_json() == []
    [stopped] = client.get("/scheduler/nodes?include_stopped=true").get_json()
    assert stopped["state"] == "stopped"


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 400), ({"is_paused": 1}, 400), ({"is_paused": True, "x": 1}, 400)],
)
def test_node_patch_is_strict(
    client: CheckedClient, scheduler: APScheduler, body: object, status: int
) -> None:
    scheduler.start()
    response = client.patch(f"/scheduler/nodes/{scheduler.scheduler.node_id}", json=body)
    assert response.status_code == status
    assert scheduler.get_node().is_paused is False


def test_unknown_node_is_404(client: CheckedClient) -> None:
    assert client.get("/scheduler/nodes/nope").status_code == 404
    response = client.patch("/scheduler/nodes/nope", json={"is_paused": True})
    assert response.status_code == 404
    assert client.get("/scheduler/nodes?include_stopped=maybe").status_code == 400


def test_runs_newest_first_with_filters_and_pages(
    client: CheckedClient, scheduler: APScheduler
) -> None:
    client.post("/scheduler/jobs", json=JOB)
    client.post("/scheduler/jobs", json={**JOB, "id": "bad", "func": "tests.jobs:fail"})
    for _ in range(3):
        client.post("/scheduler/jobs/j/run")
    client.post("/scheduler/jobs/bad/run")
    runs = client.get("/scheduler/runs").get_json()
    assert [run["job_id"] for run in runs] == ["bad", "j", "j", "j"]
    assert runs[0]["outcome"] == "failed"
    assert "boom" in runs[0]["error"]
    failed = client.get("/scheduler/runs?outcome=failed").get_json()
    assert [run["job_id"] for run in failed] == ["bad"]
    assert len(client.get("/scheduler/runs?job_id=j").get_json()) == 3
    assert client.get("/scheduler/runs?node_id=elsewhere").get_json() == []

    pages = []
    url = "/scheduler/jobs/j/runs?limit=2"
    while url:
        response = client.get(url)
        pages.append([run["id"] for run in response.get_json()])
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
    assert [len(page) for page in pages] == [2, 1]
    ids = [run_id for page in pages for run_id in page]
    assert ids == sorted(ids, reverse=True)


def test_runs_of_removed_jobs_stay_in_the_global_history(
    client: CheckedClient,
) -> None:
    client.post("/scheduler/jobs", json=JOB)
    client.post("/scheduler/jobs/j/run")
    client.delete("/scheduler/jobs/j")
    assert client.get("/scheduler/jobs/j/runs").status_code == 404
    assert len(client.get("/scheduler/runs?job_id=j").get_json()) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("before=-1", "before"),
        ("outcome=great", "outcome"),
        ("node_id=", "node_id"),
    ],
)
def test_bad_run_queries_are_400(client: CheckedClient, query: str, field: str) -> None:
    response = client.get(f"/scheduler/runs?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_a_timeout_is_set_over_rest_and_its_runs_are_found_by_outcome(
    client: CheckedClient,
) -> None:
    jobs.gate.set()  # the job returns as soon as it is cancelled
    body = {**JOB, "id": "slow", "func": "tests.jobs:until_cancelled", "timeout": 30}
    assert client.post("/scheduler/jobs", json=body).get_json()["timeout"] == 30
    patched = client.patch("/scheduler/jobs/slow", json={"timeout": 0.2}).get_json()
    assert patched["timeout"] == 0.2
    assert client.post("/scheduler/jobs/slow/run").status_code == 200
    (run,) = client.get("/scheduler/runs?outcome=timed_out").get_json()
    assert (run["job_id"], run["outcome"], run["result"]) == ("slow", "timed_out", None)
    assert run["error"] == "the run of job slow was still going after its 0.2 s timeout"
    assert (
        client.patch("/scheduler/jobs/slow", json={"timeout": None}).get_json()["timeout"] is None
    )
