"""The claim transaction itself: a conflicting run row or an unreadable row costs only its
job, on both backends."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from tests.conftest import eventually
from tests.integration.rows import corrupt_job, mark_node
from tickwork import EngineSettings, Scheduler
from tickwork.engine.planner import plan_claim
from tickwork.node import Node, NodeState
from tickwork.run import Outcome
from tickwork.store.base import ClaimPlan, DueJob

NODE = "claims-test"


@pytest.fixture
def admin(database_url: str) -> Iterator[Scheduler]:
    """A scheduler that is never started, and a registered node to claim as."""
    scheduler = Scheduler(database_url, timezone="UTC")
    scheduler.store.start()
    now = scheduler.store.now()
    scheduler.store.register_node(
        Node(NODE, "host", 1, "test", NodeState.RUNNING, False, now, now, None)
    )
    yield scheduler
    scheduler.close()


def add_due(admin: Scheduler, job_id: str, due: datetime, coalesce: bool = True) -> None:
    """A 10 s interval job due at ``due``, running however late, many instances at once."""
    admin.add_job(
        "tests.jobs:record",
        "interval",
        seconds=10,
        start_date=due,
        next_run_time=due,
        coalesce=coalesce,
        misfire_grace_time=None,
        max_instances=10,
        id=job_id,
    )


def test_a_fire_with_a_run_row_already_is_skipped_not_fatal(admin: Scheduler) -> None:
    """Even a planner that ignores ``last_claimed`` cannot make the claim fail."""
    due = admin.store.now() - timedelta(seconds=1)
    for job_id in ("again", "other"):
        add_due(admin, job_id, due)
    first = admin.store.claim_due(NODE, plan_claim, limit=10)
    assert {f.job_id for f in first.plan.fires} == {"again", "other"}
    admin.modify_job("again", next_run_time=due)  # back to the claimed fire
    add_due(admin, "fresh", due)

    def forgetful(jobs: Sequence[DueJob], now: datetime, horizon: datetime) -> ClaimPlan:
        return plan_claim([replace(job, last_claimed=None) for job in jobs], now, horizon)

    second = admin.store.claim_due(NODE, forgetful, limit=10)
    assert [f.job_id for f in second.plan.fires] == ["fresh"]
    job = admin.get_job("again")
    assert job is not None
    assert job.next_run_time == due + timedelta(seconds=10)
    runs = admin.get_runs("again")
    assert [(r.scheduled_time, r.outcome) for r in runs] == [(due, Outcome.RUNNING)]


def test_the_claim_passes_over_fire_times_claimed_already(admin: Scheduler) -> None:
    due = admin.store.now() - timedelta(seconds=25)
    add_due(admin, "edited", due, coalesce=False)
    claimed = admin.store.claim_due(NODE, plan_claim, limit=10)
    expected = [due + timedelta(seconds=seconds) for seconds in (0, 10, 20)]
    assert [f.scheduled_time for f in claimed.plan.fires] == expected
    admin.modify_job("edited", next_run_time=due + timedelta(seconds=10))
    again = admin.store.claim_due(NODE, plan_claim, limit=10)
    assert again.plan.fires == []
    job = admin.get_job("edited")
    assert job is not None
    assert job.next_run_time == due + timedelta(seconds=30)


def test_an_unreadable_row_is_marked_broken_and_the_batch_goes_on(
    admin: Scheduler, database_url: str
) -> None:
    due = admin.store.now() - timedelta(seconds=1)
    for job_id in ("bad", "good"):
        add_due(admin, job_id, due)
    corrupt_job(database_url, "bad", '{"type": "lunar"}')
    result = admin.store.claim_due(NODE, plan_claim, limit=10)
    assert [f.job_id for f in result.plan.fires] == ["good"]
    assert "lunar" in result.plan.broken["bad"]
    bad = admin.get_job("bad")
    assert bad is not None
    assert bad.next_run_time is None
    assert bad.broken_at is not None
    assert "lunar" in (bad.broken_reason or "")
    assert admin.count_broken_jobs() == 1
    assert {job.id for job in admin.get_jobs()} == {"bad", "good"}


def test_a_node_whose_row_says_dead_claims_nothing_and_rejoins(database_url: str) -> None:
    """What a claim tells a node declared dead: nothing is claimed under the old id."""
    scheduler = Scheduler(
        database_url,
        timezone="UTC",
        settings=EngineSettings(poll_interval=0.05, heartbeat_interval=5, node_timeout=30),
    )
    try:
        scheduler.start()
        old_id = scheduler.node_id
        scheduler.pause()
        mark_node(database_url, old_id, "dead")
        scheduler.add_job("tests.jobs:record", "interval", seconds=1, id="after")
        scheduler.resume()
        run = eventually(lambda: scheduler.get_runs("after", outcome=Outcome.SUCCEEDED))
        assert scheduler.node_id != old_id
        assert {r.node_id for r in run} == {scheduler.node_id}
        assert scheduler.get_runs(node_id=old_id) == []
    finally:
        scheduler.close()


def test_a_node_is_not_declared_dead_in_the_middle_of_its_own_claim(postgres_url: str) -> None:
    """A node frozen inside its claim transaction (SIGSTOP, a GC pause) and declared dead
    meanwhile would commit ``running`` runs under a dead id, which no reaper looks at
    again: if the node then died, they stayed ``running`` for ever (found by the
    fault-injection test's reasoning). The claim holds its node row, so the reaper
    passes the node over until the claim is done, and reaps its runs after."""
    claimer, reaper = (Scheduler(postgres_url, timezone="UTC") for _ in range(2))
    try:
        claimer.store.start()
        now = claimer.store.now()
        claimer.store.register_node(
            Node(NODE, "host", 1, "test", NodeState.RUNNING, False, now, now, None)
        )
        add_due(claimer, "held", now - timedelta(seconds=1))
        reaped: list[object] = []

        def frozen(jobs: Sequence[DueJob], now: datetime, horizon: datetime) -> ClaimPlan:
            reaped.extend(reaper.store.reap_dead_nodes(timeout=0.001))
            return plan_claim(jobs, now, horizon)

        claimed = claimer.store.claim_due(NODE, frozen, limit=10)
        assert [f.job_id for f in claimed.plan.fires] == ["held"]
        assert reaped == []
        assert reaper.get_node(NODE).state is NodeState.RUNNING
        # still silent after its claim: now it is declared dead, and its run is lost
        lost = reaper.store.reap_dead_nodes(timeout=0.001)
        assert [(run.job_id, run.node_id) for run in lost] == [("held", NODE)]
        assert [r.outcome for r in reaper.get_runs("held")] == [Outcome.LOST]
    finally:
        claimer.close()
        reaper.close()
