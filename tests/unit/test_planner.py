"""Misfire grace, coalescing and max_instances, decided without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tickwork.engine.planner import MAX_CATCH_UP, plan_claim
from tickwork.store.base import DueJob
from tickwork.triggers import DateTrigger, IntervalTrigger

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
        args=[],
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
    ((job_id, moment, reason),) = plan.skipped
    assert (job_id, moment) == ("job", T0)
    assert "misfire_grace_time" in reason


def test_no_grace_runs_however_late() -> None:
    plan = plan_claim([due(grace=None)], at(5))
    assert [fire.scheduled_time for fire in plan.fires] == [T0]


def test_without_coalesce_each_overdue_time_is_judged() -> None:
    plan = plan_claim([due(grace=1.0, coalesce=False, max_instances=5)], at(20.5))
    assert [fire.scheduled_time for fire in plan.fires] == [at(20)]
    assert [moment for _, moment, _ in plan.skipped] == [at(0), at(10)]
    assert plan.next_run_times["job"] == at(30)


def test_coalesce_runs_only_the_latest_overdue_time() -> None:
    plan = plan_claim([due(grace=None, coalesce=True)], at(35))
    assert [fire.scheduled_time for fire in plan.fires] == [at(30)]
    assert plan.skipped == []
    assert plan.next_run_times["job"] == at(40)


def test_max_instances_counts_running_runs() -> None:
    plan = plan_claim([due(max_instances=2, running=2)], at(0))
    assert plan.fires == []
    ((_, _, reason),) = plan.skipped
    assert "max_instances" in reason


def test_max_instances_limits_catch_up_within_one_claim() -> None:
    plan = plan_claim([due(grace=None, coalesce=False, max_instances=2, running=1)], at(30))
    assert [fire.scheduled_time for fire in plan.fires] == [at(0)]
    assert len(plan.skipped) == 3


def test_exhausted_trigger_marks_job_for_removal() -> None:
    job = due()
    one_shot = DueJob(**{**{f: getattr(job, f) for f in job.__slots__}, "trigger": DateTrigger(T0)})
    plan = plan_claim([one_shot], at(0))
    assert len(plan.fires) == 1
    assert plan.next_run_times == {"job": None}


@pytest.mark.parametrize("coalesce", [True, False])
def test_catch_up_is_bounded_per_claim(coalesce: bool) -> None:
    far_behind = at(10 * (MAX_CATCH_UP + 500))
    plan = plan_claim(
        [due(every=10, grace=None, coalesce=coalesce, max_instances=10**6)], far_behind
    )
    assert plan.next_run_times["job"] == at(10 * MAX_CATCH_UP)
    assert len(plan.fires) == (1 if coalesce else MAX_CATCH_UP)


def test_fire_claimed_ahead_waits_while_an_instance_runs() -> None:
    """A future fire is not judged against max_instances before its time comes."""
    job = due(next_run_time=at(10), grace=None, max_instances=1, running=1)
    plan = plan_claim([job], at(9.99), horizon=at(10.02))
    assert plan.fires == []
    assert plan.skipped == []
    assert plan.next_run_times["job"] == at(10)


def test_fires_within_the_horizon_are_claimed_ahead() -> None:
    plan = plan_claim([due(next_run_time=at(10))], at(9.99), horizon=at(10.02))
    assert [fire.scheduled_time for fire in plan.fires] == [at(10)]
    assert plan.next_run_times["job"] == at(20)
