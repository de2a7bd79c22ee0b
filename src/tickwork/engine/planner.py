"""Deciding what a batch of due jobs does: misfire grace, coalescing, max_instances.

Pure functions of the due jobs and the claim's clock, so every rule is tested without a
database and applied by the store inside the claim's transaction. One job's trouble stays
that job's: a trigger that raises, or takes too long, marks only its job broken, and the
trigger work of one claim is bounded so an expensive job cannot stall the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from tickwork.run import SkipReason
from tickwork.store.base import ClaimPlan, DueJob, Fire, Skip
from tickwork.triggers import Trigger

logger = logging.getLogger(__name__)

#: At most this many overdue fire times are walked per job and claim; a job further behind
#: stays due and is continued by the next claim, so one job cannot stall a batch.
MAX_CATCH_UP = 1000
#: Seconds of trigger work one job gets per claim; its catch-up goes on in the next claim.
JOB_BUDGET = 0.05
#: Seconds of trigger work one claim may do; jobs not planned by then stay due, for the
#: next claim (which follows at once).
CLAIM_BUDGET = 0.5
#: A single ``next_fire_time`` call slower than this many seconds marks its job broken:
#: left scheduled, it would stall every claim that meets it.
CALL_LIMIT = 2.0

Timer = Callable[[], float]


class _TriggerTooSlow(Exception):
    pass


def plan_claim(
    due_jobs: Sequence[DueJob],
    now: datetime,
    horizon: datetime | None = None,
    *,
    timer: Timer = time.perf_counter,
) -> ClaimPlan:
    """Plan the fires of ``due_jobs`` at ``now``; fire times up to ``horizon`` (a few
    milliseconds ahead, so the claim is done when the time comes) are included.

    ``timer`` measures trigger work (seconds, monotonic) against the budgets above.
    """
    plan = ClaimPlan()
    started = timer()
    for job in due_jobs:
        if timer() - started > CLAIM_BUDGET:
            break  # the jobs left keep their next_run_time and stay due
        try:
            run_times, upcoming = _walk(job, now, horizon or now, timer)
        except _TriggerTooSlow as exc:
            plan.broken[job.id] = str(exc)
            continue
        except Exception as exc:  # a trigger's failure is its job's, not the batch's
            plan.broken[job.id] = f"its trigger failed: {type(exc).__name__}: {exc}"[:1000]
            continue
        _plan_job(job, run_times, upcoming, now, plan)
    return plan


def _walk(
    job: DueJob, now: datetime, horizon: datetime, timer: Timer
) -> tuple[list[datetime], datetime | None]:
    """The job's fire times due by ``horizon`` and the one after them.

    Fire times up to the latest one already claimed are passed over: an edit (a
    ``next_run_time`` set back, a resume or a replacing re-add in the claim-ahead window)
    may point the job at a time that has its run already, and it must not run twice.
    """
    upcoming: datetime | None = job.next_run_time
    if job.last_claimed is not None and job.next_run_time <= job.last_claimed:
        logger.info(
            "job %s is due at %s, which was claimed already; going on after %s",
            job.id,
            job.next_run_time.isoformat(),
            job.last_claimed.isoformat(),
        )
        upcoming = _next_fire_time(job.trigger, job.last_claimed, now, timer)
    run_times: list[datetime] = []
    started = timer()
    while upcoming is not None and upcoming <= horizon and len(run_times) < MAX_CATCH_UP:
        run_times.append(upcoming)
        upcoming = _next_fire_time(job.trigger, upcoming, now, timer)
        if timer() - started > JOB_BUDGET:
            break  # the job stays due at ``upcoming``; the next claim goes on from there
    return run_times, upcoming


def _next_fire_time(
    trigger: Trigger, previous: datetime, now: datetime, timer: Timer
) -> datetime | None:
    started = timer()
    moment = trigger.next_fire_time(previous, now)
    took = timer() - started
    if took > CALL_LIMIT:
        raise _TriggerTooSlow(
            f"computing one fire time took {took:.1f} s, more than the {CALL_LIMIT:g} s "
            "allowed; simplify its trigger"
        )
    return moment


def _plan_job(
    job: DueJob,
    run_times: list[datetime],
    upcoming: datetime | None,
    now: datetime,
    plan: ClaimPlan,
) -> None:
    if job.running:
        # Fire times claimed ahead wait for a claim at their time, when max_instances can
        # be judged fairly; only the overdue ones are decided (and coalesced) now.
        ahead = [moment for moment in run_times if moment > now]
        if ahead:
            run_times, upcoming = run_times[: -len(ahead)], ahead[0]
    plan.next_run_times[job.id] = upcoming
    coalesced = 0
    if job.coalesce and run_times:
        coalesced = len(run_times) - 1
        run_times = run_times[-1:]
        if coalesced:
            plan.coalesced[job.id] = coalesced
    instances = job.running
    for run_time in run_times:
        lateness = (now - run_time).total_seconds()
        if job.misfire_grace_time is not None and lateness > job.misfire_grace_time:
            plan.skipped.append(
                Skip(
                    job.id,
                    run_time,
                    SkipReason.MISFIRED,
                    f"claimed {lateness:.3f} s late, beyond misfire_grace_time "
                    f"{job.misfire_grace_time:g} s",
                )
            )
        elif run_time > now and instances:
            # Ahead of time, after a fire of this claim (coalesce=False): leave this time
            # to a claim at its due time too.
            plan.next_run_times[job.id] = run_time
            break
        elif instances >= job.max_instances:
            plan.skipped.append(
                Skip(
                    job.id,
                    run_time,
                    SkipReason.MAX_INSTANCES,
                    f"max_instances reached ({job.max_instances} already running)",
                )
            )
        else:
            instances += 1
            plan.fires.append(
                Fire(
                    job_id=job.id,
                    func_ref=job.func_ref,
                    args=list(job.args),
                    kwargs=job.kwargs,
                    executor=job.executor,
                    scheduled_time=run_time,
                    misfire_grace_time=job.misfire_grace_time,
                    coalesced=coalesced,
                    timeout=job.timeout,
                )
            )
    if plan.next_run_times[job.id] is None and not job.rerun_lost:
        plan.removed.append(job.id)
