"""An executor that runs fires in child processes, for CPU-bound jobs."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Future
from concurrent.futures import ProcessPoolExecutor as _Pool
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait

from tickwork.clock import SystemClock
from tickwork.exceptions import WorkerDiedError
from tickwork.executors import process_starts
from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    Finished,
    cancelled,
    check_max_workers,
    failed_result,
    failure,
    run_fire,
)
from tickwork.refs import import_ref
from tickwork.store.base import Fire

logger = logging.getLogger(__name__)


class ProcessPoolExecutor(Executor):
    """Runs fires in up to ``max_workers`` processes started with ``spawn``.

    Children import the job's function from its ``module:qualname`` reference, so a task
    registered under a custom name cannot run here. ``spawn`` is used because forking a
    process that has threads (ours and the database driver's) is unsafe.

    A job that kills its worker (``os._exit``, a segfault, the OOM killer) breaks a
    ``concurrent.futures`` pool for good: every fire the pool held fails with the worker's
    exit code, and the pool is replaced by a fresh one for the fires that follow.
    """

    def __init__(self, max_workers: int = 4) -> None:
        self.max_workers = check_max_workers(max_workers)
        self._pool: _Pool | None = None
        self._context: ExecutionContext | None = None
        self._lock = threading.Lock()
        self._starts: process_starts.StartReports | None = None

    def start(self, context: ExecutionContext) -> None:
        self._context = context
        if context.on_started is not None:
            self._starts = process_starts.StartReports(context.on_started, context.health)
        self._pool = self._new_pool()

    def _new_pool(self) -> _Pool:
        context = multiprocessing.get_context("spawn")
        if self._starts is None:
            return _Pool(self.max_workers, mp_context=context)
        return _Pool(
            self.max_workers,
            mp_context=context,
            initializer=process_starts.connect,
            initargs=(self._starts.address,),
        )

    def submit(self, fire: Fire) -> None:
        starts = self._starts
        if starts is not None:
            starts.expect(fire)
        try:
            with self._lock:
                pool = self._pool
                assert pool is not None, "executor not started"
                try:
                    future = pool.submit(_run_in_child, fire)
                except BrokenProcessPool:
                    pool = self._replace(pool)
                    future = pool.submit(_run_in_child, fire)
        except BaseException:
            if starts is not None:
                starts.forget(fire)
            raise
        future.add_done_callback(lambda done: self._report(fire, pool, done))

    def _replace(self, broken: _Pool) -> _Pool:
        """A fresh pool instead of ``broken``; call with the lock held."""
        logger.error("a process-pool worker died; replacing the pool")
        broken.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        return self._pool

    def _report(self, fire: Fire, pool: _Pool, done: Future[Finished]) -> None:
        """Runs on the pool's management thread, which must survive whatever happened."""
        context = self._context
        assert context is not None
        starts = self._starts
        if starts is not None:
            starts.forget(fire)
        if done.cancelled():  # by ``shutdown(wait=False)``, before the fire started
            cancelled(context, fire)
            return
        try:
            finished = done.result()
        except BrokenProcessPool:
            # The next submit finds the pool broken and replaces it; taking the lock here,
            # on the broken pool's thread, could deadlock with a submit in progress.
            error = WorkerDiedError(f"worker process died ({_exit_codes(pool)})")
            finished = Finished(fire, failed_result(fire, None, context.clock.now(), error))
        except BaseException as exc:
            finished = failure(fire, None, context.clock.now(), exc)
        context.on_finished(finished)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            pool = self._pool
        if pool is None:
            return
        if not wait:
            # Past the shutdown grace period: the children's runs are already recorded as
            # interrupted, and a child that never returns must not keep the node alive.
            for process in _processes(pool):
                process.kill()
        pool.shutdown(wait=wait, cancel_futures=not wait)
        if self._starts is not None:
            self._starts.close()
            self._starts = None


def _processes(pool: _Pool) -> list[multiprocessing.process.BaseProcess]:
    # concurrent.futures keeps its workers private; there is no public way to reach them
    return list((getattr(pool, "_processes", None) or {}).values())


def _exit_codes(pool: _Pool) -> str:
    """The exit codes of the pool's dead workers, as far as they are known (never raises:
    it runs on the pool's thread while the outcome of a run waits for it)."""
    try:
        processes = {p.sentinel: p for p in _processes(pool)}
        ready = set(wait(list(processes), timeout=0))
        ended = [process for sentinel, process in processes.items() if sentinel in ready]
        for process in ended:
            process.join(1.0)  # its pipe closes a moment before its exit status is known
        codes = sorted({code for p in ended if (code := p.exitcode) is not None})
    except Exception:
        codes = []
    if not codes:
        return "exit code unknown"
    return "exit code " + ", ".join(str(code) for code in codes)


def _run_in_child(fire: Fire) -> Finished:
    """Runs in the child. The exception object is dropped: it may not pickle back.

    The child judges lateness and times the run by the host's clock: a scheduler's
    injected clock (a test's ``ManualClock``) lives in the parent and cannot follow."""
    clock = SystemClock()
    try:
        func = import_ref(fire.func_ref)
    except Exception as exc:
        finished = failure(fire, None, clock.now(), exc)
    else:
        finished = run_fire(fire, func, clock, on_started=process_starts.report)
    return Finished(finished.fire, finished.result, retval=None, exception=None)
