"""Run timeouts on every executor, end to end through a running scheduler, both backends."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests import jobs
from tests.conftest import eventually
from tickwork import (
    MaxInstancesReachedError,
    Outcome,
    Run,
    RunTimedOutError,
    Scheduler,
    SchedulerStateError,
    current_run,
)
from tickwork.events import EVENT_JOB_ERROR, JobExecutionEvent, SchedulerEvent

T_FAR = datetime(2100, 1, 1, tzinfo=UTC)


def _runs(scheduler: Scheduler, job_id: str, outcome: Outcome) -> list[Run]:
    return [run for run in scheduler.get_runs(job_id) if run.outcome is outcome]


def _started(scheduler: Scheduler, job_id: str) -> bool:
    return any(run.started_at for run in scheduler.get_runs(job_id))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_timed_out_process_is_killed_and_replaced(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    pool = {"type": "processpool", "max_workers": 1}
    scheduler = make_scheduler(executors={"processes": pool})
    scheduler.start()
    # no grace time: starting worker processes on a loaded machine can take seconds
    options: dict[str, Any] = {"executor": "processes", "misfire_grace_time": None}
    slow_log, next_log = tmp_path / "slow.log", tmp_path / "next.log"
    scheduler.add_job(
        id="slow", func=jobs.append_line, args=[str(slow_log), "slow", 2], timeout=0.5, **options
    )
    (run,) = eventually(lambda: _runs(scheduler, "slow", Outcome.TIMED_OUT), timeout=60)
    assert run.error == "the run of job slow was still going after its 0.5 s timeout"
    assert run.started_at is not None
    assert run.duration is not None
    assert 0.5 <= run.duration < 2  # ended at the deadline, not when the call would have
    pid = int(slow_log.read_text().split("\t")[1])
    eventually(lambda: not _pid_alive(pid))
    # the pool goes on with a new worker; the killed one's end is not recorded over it
    scheduler.add_job(id="next", func=jobs.append_line, args=[str(next_log), "next"], **options)
    (done,) = eventually(lambda: _runs(scheduler, "next", Outcome.SUCCEEDED), timeout=60)
    assert int(done.result or "") != pid
    assert scheduler.engine.overdue_runs == 0
    assert [r.outcome for r in scheduler.get_runs("slow")] == [Outcome.TIMED_OUT]


def test_a_killed_worker_leaves_the_other_workers_runs_alone(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    pool = {"type": "processpool", "max_workers": 2}
    scheduler = make_scheduler(executors={"processes": pool})
    scheduler.start()
    options: dict[str, Any] = {"executor": "processes", "misfire_grace_time": None}
    release = tmp_path / "release"
    scheduler.add_job(id="held", func=jobs.wait_for_file, args=[str(release)], **options)
    eventually(lambda: _started(scheduler, "held"), timeout=60)
    scheduler.add_job(id="slow", func=jobs.sleep, args=[30], timeout=0.3, **options)
    eventually(lambda: _runs(scheduler, "slow", Outcome.TIMED_OUT), timeout=60)
    release.touch()
    (held,) = eventually(lambda: _runs(scheduler, "held", Outcome.SUCCEEDED), timeout=60)
    assert held.result == '"released"'


def test_a_timed_out_thread_frees_its_slot_and_its_late_result_is_dropped(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    events: list[SchedulerEvent] = []
    scheduler.add_listener(events.append, EVENT_JOB_ERROR)
    scheduler.start()
    scheduler.add_job(
        id="stuck",
        func=jobs.until_cancelled,
        trigger="interval",
        seconds=1,
        max_instances=1,
        timeout=0.3,
        misfire_grace_time=None,
    )
    # the first thread still waits for the gate when the second fire starts
    eventually(lambda: jobs.calls.count(("started", "stuck")) >= 2, timeout=20)
    assert ("cancelled", "stuck") in jobs.calls
    assert ("not cancelled", "stuck") not in jobs.calls
    assert scheduler.engine.overdue_runs >= 1
    scheduler.pause_job("stuck")
    timed_out = eventually(lambda: _runs(scheduler, "stuck", Outcome.TIMED_OUT))
    assert all(run.result is None for run in timed_out)
    jobs.gate.set()  # the threads return "late" now
    eventually(lambda: scheduler.engine.overdue_runs == 0)
    scheduler.engine.wait_idle(10)
    runs = scheduler.get_runs("stuck")
    assert {run.outcome for run in runs} == {Outcome.TIMED_OUT}
    assert all(run.result is None for run in runs)
    errors = [e for e in events if isinstance(e, JobExecutionEvent) and e.job_id == "stuck"]
    assert errors
    assert all(isinstance(e.exception, RunTimedOutError) for e in errors)


def test_a_manual_run_on_a_running_scheduler_times_out_too(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    scheduler.start()
    scheduler.add_job(id="stuck", func=jobs.until_cancelled, timeout=0.3, next_run_time=None)
    scheduler.run_job("stuck")
    eventually(lambda: _runs(scheduler, "stuck", Outcome.TIMED_OUT))
    # its slot is free although its thread still holds on
    scheduler.run_job("stuck")
    eventually(lambda: len(_runs(scheduler, "stuck", Outcome.TIMED_OUT)) == 2)


def test_a_timed_out_coroutine_is_cancelled(make_scheduler: Callable[..., Scheduler]) -> None:
    scheduler = make_scheduler(executors={"loop": {"type": "asyncio"}})
    scheduler.start()
    scheduler.add_job(id="nap", func=jobs.async_until_cancelled, executor="loop", timeout=0.3)
    (run,) = eventually(lambda: _runs(scheduler, "nap", Outcome.TIMED_OUT))
    assert ("async cancelled",) in eventually(lambda: jobs.calls)
    eventually(lambda: scheduler.engine.overdue_runs == 0)
    assert [r.outcome for r in scheduler.get_runs("nap")] == [Outcome.TIMED_OUT]
    assert run.result is None


def test_a_stopped_scheduler_s_inline_run_is_recorded_timed_out_at_the_deadline(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    """The caller's thread runs the job: it is cancelled at the deadline, the run recorded
    then, and the call returns once the job stops (its result is not recorded)."""
    scheduler = make_scheduler()
    scheduler.add_job(id="inline", func=jobs.until_cancelled, timeout=0.3)
    jobs.gate.set()
    scheduler.run_job("inline")
    assert ("cancelled", "inline") in jobs.calls
    (run,) = scheduler.get_runs("inline")
    assert (run.outcome, run.result, run.manual) == (Outcome.TIMED_OUT, None, True)


def test_current_run_describes_the_run_and_is_refused_outside_one(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    scheduler.add_job(id="plain", func=jobs.describe_current_run)
    scheduler.run_job("plain")
    (run,) = scheduler.get_runs("plain")
    assert run.outcome is Outcome.SUCCEEDED
    assert run.result == f'["plain", "{run.scheduled_time.isoformat()}", false]'
    with pytest.raises(SchedulerStateError, match="outside a tickwork run"):
        current_run()


def test_a_run_that_ends_in_time_keeps_its_outcome(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    scheduler.start()
    scheduler.add_job(id="quick", func=jobs.add, args=[1, 2], timeout=30)
    (run,) = eventually(lambda: _runs(scheduler, "quick", Outcome.SUCCEEDED))
    assert run.result == "3"
    # a run within its timeout holds its slot as usual
    scheduler.add_job(id="busy", func=jobs.wait_for_gate, timeout=30, next_run_time=None)
    scheduler.run_job("busy")
    with pytest.raises(MaxInstancesReachedError):
        scheduler.run_job("busy")


def _running(scheduler: Scheduler, job_id: str) -> Run | None:
    return next(iter(_runs(scheduler, job_id, Outcome.RUNNING)), None)


def test_a_cancel_request_ends_runs_as_a_timeout_would(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    """Asked through the store (from any node), the owning node's heartbeat cancels."""
    pool = {"type": "processpool", "max_workers": 1}
    scheduler = make_scheduler(executors={"processes": pool, "loop": {"type": "asyncio"}})
    other = make_scheduler()  # another node's view of the same store
    scheduler.start()
    log = tmp_path / "pid.log"
    options: dict[str, Any] = {"misfire_grace_time": None}
    scheduler.add_job(
        id="proc", func=jobs.append_line, args=[str(log), "p", 60], executor="processes", **options
    )
    scheduler.add_job(id="coro", func=jobs.async_until_cancelled, executor="loop", **options)
    scheduler.add_job(id="thread", func=jobs.until_cancelled, timeout=3600, **options)
    for job_id in ("proc", "coro", "thread"):
        eventually(partial(_started, scheduler, job_id), timeout=60)
        run = _running(scheduler, job_id)
        assert run is not None
        assert other.store.request_cancel(job_id, run.scheduled_time)
    for job_id in ("proc", "coro", "thread"):
        (run,) = eventually(partial(_runs, scheduler, job_id, Outcome.CANCELLED))
        assert run.error == f"the run of job {job_id} was cancelled on request"
    pid = int(log.read_text().split("\t")[1])
    eventually(lambda: not _pid_alive(pid))
    assert ("async cancelled",) in jobs.calls
    eventually(lambda: ("cancelled", "thread") in jobs.calls)
    jobs.gate.set()
    eventually(lambda: scheduler.engine.overdue_runs == 0)
    scheduler.engine.wait_idle(10)
    for job_id in ("proc", "coro", "thread"):
        assert [r.outcome for r in scheduler.get_runs(job_id)] == [Outcome.CANCELLED]
    # nothing running: nothing to ask
    assert not other.store.request_cancel("thread", T_FAR)
