"""An executor that runs coroutine jobs on one event loop in a dedicated thread."""

from __future__ import annotations

import asyncio
import inspect
import threading

from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    Finished,
    failure,
    run_fire,
    run_fire_async,
)
from tickwork.store.base import Fire
from tickwork.supervision import supervised_thread


class AsyncIOExecutor(Executor):
    """Runs coroutine functions concurrently on a private event loop.

    Plain functions sent here run in the loop's default thread pool so they cannot block
    the coroutines. The loop's thread is supervised: should anything escape a task and stop
    the loop, the loop is run again with every other task still on it.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._context: ExecutionContext | None = None

    def start(self, context: ExecutionContext) -> None:
        self._context = context
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = supervised_thread("tickwork-asyncio", loop.run_forever, context.health)
        self._thread.start()

    def submit(self, fire: Fire) -> None:
        assert self._loop is not None, "executor not started"
        asyncio.run_coroutine_threadsafe(self._run(fire), self._loop)

    async def _run(self, fire: Fire) -> None:
        context = self._context
        assert context is not None
        finished: Finished
        try:
            func = context.resolve(fire.func_ref)
            if inspect.iscoroutinefunction(func):
                finished = await run_fire_async(fire, func, context.clock, context.on_started)
            else:
                finished = await asyncio.to_thread(
                    run_fire, fire, func, context.clock, context.call_wrapper, context.on_started
                )
        except BaseException as exc:  # resolving failed, or this task itself was cancelled
            finished = failure(fire, None, context.clock.now(), exc)
        context.on_finished(finished)

    def shutdown(self, wait: bool = True) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if wait:
            asyncio.run_coroutine_threadsafe(_drain(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = None


async def _drain() -> None:
    """Wait for every task on the loop except this one."""
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
