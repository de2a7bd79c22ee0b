"""An executor that runs coroutine jobs on one event loop in a dedicated thread."""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import Future
from datetime import datetime

from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    Finished,
    cancelled,
    failure,
    run_fire,
    run_fire_async,
)
from tickwork.store.base import Fire
from tickwork.supervision import supervised_thread


class AsyncIOExecutor(Executor):
    """Runs coroutine functions concurrently on a private event loop.

    Plain functions sent here run in the loop's default thread pool so they cannot block
    the coroutines. A run past its timeout is cancelled: a coroutine gets ``CancelledError``
    at its next ``await``; a plain function's thread cannot be stopped and is only told
    (:attr:`tickwork.CurrentRun.cancelled`). The loop's thread is supervised: should
    anything escape a task and stop the loop, the loop is run again with every other task
    still on it.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._context: ExecutionContext | None = None
        self._closing = False
        # running fires: their task and cancel event (only fires with a timeout have one)
        self._tasks: dict[
            tuple[str, datetime], tuple[asyncio.Task[None], threading.Event | None]
        ] = {}

    def start(self, context: ExecutionContext) -> None:
        self._context = context
        self._closing = False
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = supervised_thread("tickwork-asyncio", loop.run_forever, context.health)
        self._thread.start()

    def submit(self, fire: Fire) -> None:
        assert self._loop is not None, "executor not started"
        future = asyncio.run_coroutine_threadsafe(self._run(fire), self._loop)
        future.add_done_callback(lambda done: self._dropped(fire, done))

    def _dropped(self, fire: Fire, done: Future[None]) -> None:
        """A task cancelled before its first step never ran :meth:`_run`: report it."""
        if done.cancelled():
            assert self._context is not None
            cancelled(self._context, fire)

    async def _run(self, fire: Fire) -> None:
        context = self._context
        assert context is not None
        started: list[datetime] = []

        def on_started(fire: Fire, at: datetime) -> None:
            started.append(at)
            if context.on_started is not None:
                context.on_started(fire, at)

        cancel = None if fire.timeout is None else threading.Event()
        key = (fire.job_id, fire.scheduled_time)
        task = asyncio.current_task()
        assert task is not None
        self._tasks[key] = (task, cancel)
        finished: Finished
        try:
            func = context.resolve(fire.func_ref)
            if inspect.iscoroutinefunction(func):
                finished = await run_fire_async(
                    fire, func, context.clock, on_started, cancel=cancel
                )
            else:
                finished = await asyncio.to_thread(
                    run_fire,
                    fire,
                    func,
                    context.clock,
                    context.call_wrapper,
                    on_started,
                    cancel=cancel,
                )
        except asyncio.CancelledError as exc:  # this task itself was cancelled
            if self._closing and not started:
                cancelled(context, fire)
                return
            # a plain function's thread cannot be stopped; its outcome is no longer awaited
            finished = failure(fire, started[0] if started else None, context.clock.now(), exc)
        except BaseException as exc:  # resolving failed
            finished = failure(fire, None, context.clock.now(), exc)
        finally:
            del self._tasks[key]
        context.on_finished(finished)

    def cancel(self, fire: Fire) -> None:
        """Cancel the fire's task (from the node's timer thread) and tell the run."""
        running = self._tasks.get((fire.job_id, fire.scheduled_time))
        loop = self._loop
        if running is not None and loop is not None:
            task, cancel = running
            if cancel is not None:
                cancel.set()
            loop.call_soon_threadsafe(task.cancel)

    def shutdown(self, wait: bool = True) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if wait:
            asyncio.run_coroutine_threadsafe(_drain(), loop).result()
        else:
            self._closing = True
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = None


#: Seconds ``shutdown(wait=False)`` gives cancelled tasks to report and end.
_CANCEL_GRACE = 1.0


async def _cancel_all() -> None:
    """Cancel every task on the loop except this one, and let them report."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=_CANCEL_GRACE)


async def _drain() -> None:
    """Wait for every task on the loop except this one."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
