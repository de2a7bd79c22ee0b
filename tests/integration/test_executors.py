"""The process-pool and asyncio executors, end to end through a running scheduler."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from tests import jobs
from tests.conftest import eventually
from tickwork import ConfigurationError, Outcome, Run, Scheduler
from tickwork.executors import AsyncIOExecutor, ProcessPoolExecutor, build_executor


def _finished(scheduler: Scheduler, job_id: str) -> list[Run]:
    return [r for r in scheduler.get_runs(job_id) if r.outcome is not Outcome.RUNNING]


def test_process_pool_runs_jobs_in_other_processes(
    make_scheduler: Callable[..., Scheduler], tmp_path: object
) -> None:
    scheduler = make_scheduler(executors={"processes": {"type": "processpool", "max_workers": 2}})
    scheduler.start()
    log = f"{tmp_path}/pids.log"
    # no grace time: starting worker processes on a loaded machine can take seconds
    options: dict[str, Any] = {"executor": "processes", "misfire_grace_time": None}
    scheduler.add_job(jobs.append_line, args=[log, "p"], **options, id="p")
    scheduler.add_job(jobs.fail, args=["in a child"], **options, id="bad")
    (run,) = eventually(lambda: _finished(scheduler, "p"), timeout=60)
    assert run.outcome is Outcome.SUCCEEDED
    child_pid = int(run.result or "")
    assert child_pid != os.getpid()
    (failed,) = eventually(lambda: _finished(scheduler, "bad"), timeout=60)
    assert failed.outcome is Outcome.FAILED
    assert failed.error == "RuntimeError: in a child"


def test_asyncio_executor_runs_coroutines_and_plain_functions(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler(executors={"loop": AsyncIOExecutor()})
    scheduler.start()
    scheduler.add_job(jobs.async_record, args=["a"], executor="loop", id="coro")
    scheduler.add_job(jobs.add, args=[2, 3], executor="loop", id="plain")
    (coro,) = eventually(lambda: _finished(scheduler, "coro"))
    (plain,) = eventually(lambda: _finished(scheduler, "plain"))
    assert (coro.outcome, coro.result) == (Outcome.SUCCEEDED, '"async-ok"')
    assert (plain.outcome, plain.result) == (Outcome.SUCCEEDED, "5")
    assert ("async", "a") in jobs.calls


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"type": "fibers"}, "fibers"),
        ({"type": "threadpool", "max_workers": 0}, "max_workers"),
        ({"type": "processpool", "workers": 3}, "workers"),
        ("threadpool", "dict"),
    ],
)
def test_bad_executor_config_is_refused(spec: object, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        build_executor(spec)  # type: ignore[arg-type]


def test_apscheduler_executor_class_paths_are_understood() -> None:
    spec = {"class": "apscheduler.executors.pool:ProcessPoolExecutor", "max_workers": 3}
    executor = build_executor(spec)
    assert isinstance(executor, ProcessPoolExecutor)
    assert executor.max_workers == 3
