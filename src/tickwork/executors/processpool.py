"""An executor that runs fires in child processes, for CPU-bound jobs."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future
from concurrent.futures import ProcessPoolExecutor as _Pool
from datetime import UTC, datetime

from tickwork.clock import SystemClock
from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    Finished,
    check_max_workers,
    failure,
    run_fire,
)
from tickwork.refs import import_ref
from tickwork.store.base import Fire


class ProcessPoolExecutor(Executor):
    """Runs fires in up to ``max_workers`` processes started with ``spawn``.

    Children import the job's function from its ``module:qualname`` reference, so a task
    registered under a custom name cannot run here. ``spawn`` is used because forking a
    process that has threads (ours and the database driver's) is unsafe.
    """

    def __init__(self, max_workers: int = 4) -> None:
        self.max_workers = check_max_workers(max_workers)
        self._pool: _Pool | None = None
        self._context: ExecutionContext | None = None

    def start(self, context: ExecutionContext) -> None:
        self._context = context
        self._pool = _Pool(self.max_workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fire: Fire) -> None:
        assert self._pool is not None, "executor not started"
        future = self._pool.submit(_run_in_child, fire)
        future.add_done_callback(lambda done: self._report(fire, done))

    def _report(self, fire: Fire, done: Future[Finished]) -> None:
        context = self._context
        assert context is not None
        try:
            finished = done.result()
        except BaseException as exc:
            finished = failure(fire, None, datetime.now(UTC), exc)
        context.on_finished(finished)

    def shutdown(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)


def _run_in_child(fire: Fire) -> Finished:
    """Runs in the child. The exception object is dropped: it may not pickle back."""
    clock = SystemClock()
    try:
        func = import_ref(fire.func_ref)
    except Exception as exc:
        finished = failure(fire, None, clock.now(), exc)
    else:
        finished = run_fire(fire, func, clock)
    return Finished(finished.fire, finished.result, retval=None, exception=None)
