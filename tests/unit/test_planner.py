"""Misfire grace, coalescing and max_instances, decided without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickwork.engine.planner import (
    CALL_LIMIT,
    CLAIM_BUDGET,
    JOB_BUDGET,
    MAX_CATCH_UP,
    plan_claim,
)
from tickwork.run import SkipReason
from tickwork.store.base import DueJob
from tickwork.triggers import DateTrigger, IntervalTrigger, Trigger

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def due(
    next_run_time: datetime = T0,
    *,
    every: float = 10,
    grace: float | None = 1.0,
    coalesce: bool = True,
    max_instances: int = 1,
    running: int = 0,
) -> DueJob:
    return DueJob(
        id="job",
        func_ref="tests.jobs:record",
        args=(),
        kwargs={},
        trigger=IntervalTrigger(seconds=every, start_date=T0, timezone="UTC"),
        executor="default",
        misfire_grace_time=grace,
        coalesce=coalesce,
        max_instances=max_instances,
        rerun_lost=False,
        next_run_time=next_run_time,
        running=running,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_on_time_fire_runs_and_advances() -> None:
    plan = plan_claim([due()], at(0.2))
    assert [fire.scheduled_time for fire in plan.fires] == [T0]
    assert plan.next_run_times == {"job": at(10)}
    assert plan.skipped == []


def test_late_beyond_grace_is_missed() -> None:
    plan = plan_claim([due(grace=1.0)], at(1.5))
    assert plan.fires == []
    (skip,) = plan.skipped
    assert (skip.job_id, skip.scheduled_time, skip.reason) == ("job", T0, SkipReason.MISFIRED)
    assert "misfire_grace_time" in skip.detail


def test_no_grace_runs_however_late() -> None:
    plan = plan_claim([due(grace=None)], at(5))
    assert [fire.scheduled_time for fire in plan.fires] == [T0]


def test_without_coalesce_each_overdue_time_is_judged() -> None:
    plan = plan_claim([due(grace=1.0, coalesce=False, max_instances=5)], at(20.5))
    assert [fire.scheduled_time for fire in plan.fires] == [at(20)]
    assert [skip.scheduled_time for skip in plan.skipped] == [at(0), at(10)]
    assert plan.next_run_times["job"] == at(30)


def test_coalesce_runs_only_the_latest_overdue_time() -> None:
    plan = plan_claim([due(grace=None, coalesce=True)], at(35))
    assert [fire.scheduled_time for fire in plan.fires] == [at(30)]
    assert plan.skipped == []
    assert plan.next_run_times["job"] == at(40)


def test_max_instances_counts_running_runs() -> None:
    plan = plan_claim([due(max_instances=2, running=2)], at(0))
    assert plan.fires == []
    (skip,) = plan.skipped
    assert skip.reason is SkipReason.MAX_INSTANCES
    assert "max_instances" in skip.detail


def test_max_instances_limits_catch_up_within_one_claim() -> None:
    plan = plan_claim([due(grace=None, coalesce=False, max_instances=2, running=1)], at(30))
    assert [fire.scheduled_time for fire in plan.fires] == [at(0)]
    assert len(plan.skipped) == 3


def test_exhausted_trigger_marks_job_for_removal() -> None:
    job = due()
    one_shot = replace(job, trigger=DateTrigger(T0))
    plan = plan_claim([one_shot], at(0))
    assert len(plan.fires) == 1
    assert plan.next_run_times == {"job": None}


@pytest.mark.parametrize("coalesce", [True, False])
def test_catch_up_is_bounded_per_claim(coalesce: bool) -> None:
    far_behind = at(10 * (MAX_CATCH_UP + 500))
    plan = plan_claim(
        [due(every=10, grace=None, coalesce=coalesce, max_instances=10**6)],
        far_behind,
        timer=StillTimer(),
    )
    assert plan.next_run_times["job"] == at(10 * MAX_CATCH_UP)
    assert len(plan.fires) == (1 if coalesce else MAX_CATCH_UP)
    if coalesce:
        assert plan.fires[0].coalesced == MAX_CATCH_UP - 1
        assert plan.coalesced == {"job": MAX_CATCH_UP - 1}


class StillTimer:
    """A timer whose time moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CostlyTrigger(Trigger):
    """An interval of 10 s whose every computation costs ``cost`` seconds of ``timer``."""

    kind = "costly"

    def __init__(self, timer: StillTimer, cost: float, fails: bool = False) -> None:
        self.timer = timer
        self.cost = cost
        self.fails = fails
        self.inner = IntervalTrigger(seconds=10, start_date=T0, timezone="UTC")

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        self.timer.now += self.cost
        if self.fails:
            raise OverflowError("date value out of range")
        return self.inner.next_fire_time(previous, now)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind}


def named(job: DueJob, job_id: str, **changes: Any) -> DueJob:
    return replace(job, id=job_id, **changes)


def test_coalesced_fire_counts_the_fire_times_it_stands_for() -> None:
    plan = plan_claim([due(grace=None)], at(35))
    (fire,) = plan.fires
    assert (fire.scheduled_time, fire.coalesced) == (at(30), 3)
    assert plan.coalesced == {"job": 3}


def test_coalesced_fire_skipped_as_late_keeps_the_count() -> None:
    plan = plan_claim([due(grace=1.0)], at(35))
    assert plan.fires == []
    assert [(skip.job_id, skip.scheduled_time) for skip in plan.skipped] == [("job", at(30))]
    assert plan.coalesced == {"job": 3}


def test_fire_times_claimed_already_are_passed_over() -> None:
    """next_run_time set back to a fire that has its run (a PATCH, a resume or a replacing
    re-add inside the claim-ahead window): the job goes on after the latest claimed one."""
    job = due(next_run_time=at(10), coalesce=False, grace=None, max_instances=10)
    plan = plan_claim([replace(job, last_claimed=at(20))], at(25))
    assert [fire.scheduled_time for fire in plan.fires] == []
    assert plan.next_run_times == {"job": at(30)}
    ahead = plan_claim([replace(job, last_claimed=at(10))], at(9.8), horizon=at(10.3))
    assert ahead.fires == []
    assert ahead.next_run_times == {"job": at(20)}


def test_one_jobs_slow_catch_up_is_continued_by_the_next_claim() -> None:
    timer = StillTimer()
    slow = named(due(grace=None, coalesce=False, max_instances=10**6), "slow")
    slow = replace(slow, trigger=CostlyTrigger(timer, cost=JOB_BUDGET / 4))
    quick = named(due(grace=None), "quick")
    plan = plan_claim([slow, quick], at(1000), timer=timer)
    assert len([f for f in plan.fires if f.job_id == "slow"]) == 5
    assert plan.next_run_times["slow"] == at(50)
    assert plan.next_run_times["quick"] == at(1010)


def test_a_claim_stops_planning_when_its_budget_is_spent() -> None:
    timer = StillTimer()
    costly = CostlyTrigger(timer, cost=CLAIM_BUDGET / 2 + 0.01)
    jobs = [replace(named(due(), f"job{n}"), trigger=costly) for n in range(3)]
    plan = plan_claim(jobs, at(0.1), timer=timer)
    assert set(plan.next_run_times) == {"job0", "job1"}  # job2 stays due, unplanned
    assert plan.broken == {}


def test_a_trigger_too_slow_for_one_call_marks_only_its_job_broken() -> None:
    timer = StillTimer()
    stalling = replace(named(due(), "stalling"), trigger=CostlyTrigger(timer, CALL_LIMIT + 1))
    plan = plan_claim([stalling, named(due(), "healthy")], at(0.1), timer=timer)
    assert "more than the" in plan.broken["stalling"]
    assert set(plan.broken) == {"stalling"}
    assert plan.next_run_times == {}  # the claim's budget is spent: "healthy" stays due
    assert plan.fires == []


def test_a_trigger_that_raises_marks_only_its_job_broken() -> None:
    timer = StillTimer()
    failing = replace(named(due(), "failing"), trigger=CostlyTrigger(timer, 0, fails=True))
    plan = plan_claim([failing, named(due(), "healthy")], at(0.1), timer=timer)
    assert plan.broken == {"failing": "its trigger failed: OverflowError: date value out of range"}
    assert [fire.job_id for fire in plan.fires] == ["healthy"]
    assert set(plan.next_run_times) == {"healthy"}


def test_fire_claimed_ahead_waits_while_an_instance_runs() -> None:
    """A future fire is not judged against max_instances before its time comes."""
    job = due(next_run_time=at(10), grace=None, max_instances=1, running=1)
    plan = plan_claim([job], at(9.99), horizon=at(10.02))
    assert plan.fires == []
    assert plan.skipped == []
    assert plan.next_run_times["job"] == at(10)


def test_overdue_fires_are_not_dropped_when_the_next_one_waits_for_a_running_instance() -> None:
    """After an outage a job is behind while an instance still runs: the overdue fire
    times are judged (here: missed, with their coalesced count) and only the one ahead
    waits for its time. Deferring them all with it left three fire times without a
    record (found by the fault-injection test)."""
    job = due(next_run_time=at(0), every=1, max_instances=1, running=1)
    plan = plan_claim([job], at(2.9), horizon=at(3.2))
    assert plan.fires == []
    [skip] = plan.skipped
    assert (skip.scheduled_time, skip.reason) == (at(2), SkipReason.MAX_INSTANCES)
    assert plan.coalesced == {"job": 2}
    assert plan.next_run_times["job"] == at(3)


def test_fires_within_the_horizon_are_claimed_ahead() -> None:
    plan = plan_claim([due(next_run_time=at(10))], at(9.99), horizon=at(10.02))
    assert [fire.scheduled_time for fire in plan.fires] == [at(10)]
    assert plan.next_run_times["job"] == at(20)
