"""Deciding what a batch of due jobs does: misfire grace, coalescing, max_instances.

Pure functions of the due jobs and the claim's clock, so every rule is tested without a
database and applied by the store inside the claim's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tickwork.store.base import ClaimPlan, DueJob, Fire

#: At most this many overdue fire times are walked per job and claim; a job further behind
#: stays due and is continued by the next claim, so one job cannot stall a batch.
MAX_CATCH_UP = 1000


def plan_claim(
    due_jobs: Sequence[DueJob], now: datetime, horizon: datetime | None = None
) -> ClaimPlan:
    """Plan the fires of ``due_jobs`` at ``now``; fire times up to ``horizon`` (a few
    milliseconds ahead, so the claim is done when the time comes) are included."""
    plan = ClaimPlan()
    for job in due_jobs:
        _plan_job(job, now, horizon or now, plan)
    return plan


def _plan_job(job: DueJob, now: datetime, horizon: datetime, plan: ClaimPlan) -> None:
    run_times: list[datetime] = []
    upcoming: datetime | None = job.next_run_time
    while upcoming is not None and upcoming <= horizon and len(run_times) < MAX_CATCH_UP:
        run_times.append(upcoming)
        upcoming = job.trigger.next_fire_time(upcoming, now)
    plan.next_run_times[job.id] = upcoming
    if job.coalesce:
        run_times = run_times[-1:]
    instances = job.running
    for run_time in run_times:
        lateness = (now - run_time).total_seconds()
        if job.misfire_grace_time is not None and lateness > job.misfire_grace_time:
            plan.skipped.append(
                (
                    job.id,
                    run_time,
                    f"claimed {lateness:.3f} s late, beyond misfire_grace_time "
                    f"{job.misfire_grace_time:g} s",
                )
            )
        elif run_time > now and instances:
            # Claimed ahead of time while another instance runs: leave this time to a claim
            # at its due time, when max_instances can be judged fairly.
            plan.next_run_times[job.id] = run_time
            break
        elif instances >= job.max_instances:
            plan.skipped.append(
                (
                    job.id,
                    run_time,
                    f"max_instances reached ({job.max_instances} already running)",
                )
            )
        else:
            instances += 1
            plan.fires.append(
                Fire(
                    job_id=job.id,
                    func_ref=job.func_ref,
                    args=job.args,
                    kwargs=job.kwargs,
                    executor=job.executor,
                    scheduled_time=run_time,
                    misfire_grace_time=job.misfire_grace_time,
                )
            )
