"""The default executor: a pool of threads in the scheduler's process."""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor as _Pool
from datetime import datetime

from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    cancelled,
    check_max_workers,
    failure,
    run_fire,
)
from tickwork.store.base import Fire


class ThreadPoolExecutor(Executor):
    """Runs fires on up to ``max_workers`` threads.

    A coroutine function scheduled here is run to completion with :func:`asyncio.run` in
    its worker thread, so async jobs work without configuring an event loop.

    A thread cannot be killed: a run past its timeout is recorded ``timed_out`` and
    cancelled (:attr:`tickwork.CurrentRun.cancelled`), but its thread stays busy until the
    call returns, so size the pool for the runs that ignore cancellation.
    """

    def __init__(self, max_workers: int = 10) -> None:
        self.max_workers = check_max_workers(max_workers)
        self._pool: _Pool | None = None
        self._context: ExecutionContext | None = None
        # cancel events of running fires that have a timeout (only those)
        self._cancels: dict[tuple[str, datetime], threading.Event] = {}

    def start(self, context: ExecutionContext) -> None:
        self._context = context
        self._pool = _Pool(self.max_workers, thread_name_prefix="tickwork-worker")

    def submit(self, fire: Fire) -> None:
        assert self._pool is not None, "executor not started"
        future = self._pool.submit(self._run, fire)
        # only ``shutdown(wait=False)`` cancels: the fire never started
        future.add_done_callback(lambda done: self._dropped(fire) if done.cancelled() else None)

    def _dropped(self, fire: Fire) -> None:
        assert self._context is not None
        cancelled(self._context, fire)

    def _run(self, fire: Fire) -> None:
        context = self._context
        assert context is not None
        if context.admit is not None and not context.admit(fire):
            return
        try:
            func = context.resolve(fire.func_ref)
        except BaseException as exc:
            context.on_finished(failure(fire, None, context.clock.now(), exc))
            return
        if inspect.iscoroutinefunction(func):
            coroutine_function = func

            def func(*args: object, **kwargs: object) -> object:
                return asyncio.run(coroutine_function(*args, **kwargs))

        if fire.timeout is None:
            finished = run_fire(fire, func, context.clock, context.call_wrapper, context.on_started)
        else:
            key = (fire.job_id, fire.scheduled_time)
            cancel = self._cancels[key] = threading.Event()
            try:
                finished = run_fire(
                    fire,
                    func,
                    context.clock,
                    context.call_wrapper,
                    context.on_started,
                    cancel=cancel,
                )
            finally:
                del self._cancels[key]
        context.on_finished(finished)

    def cancel(self, fire: Fire) -> None:
        """Tell the run it is cancelled; the thread goes on until the call returns.

        Only runs with a timeout carry the flag (so that the others cost nothing): a run
        without one, cancelled on request, is recorded but not told.
        """
        cancel = self._cancels.get((fire.job_id, fire.scheduled_time))
        if cancel is not None:
            cancel.set()

    def shutdown(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)
