"""``shutdown(wait=False)`` still reports every submitted fire (executors/base.py)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests import jobs
from tests.conftest import eventually
from tickwork.clock import ManualClock
from tickwork.executors import AsyncIOExecutor, ProcessPoolExecutor, ThreadPoolExecutor
from tickwork.executors.base import SHUT_DOWN, ExecutionContext, Executor, Finished
from tickwork.refs import import_ref
from tickwork.run import Outcome
from tickwork.store.base import Fire

T0 = datetime(2030, 1, 1, tzinfo=UTC)
FIRES = 6


def fire(number: int, func_ref: str, *args: object) -> Fire:
    return Fire(f"job-{number}", func_ref, list(args), {}, "default", T0, None)


@pytest.mark.parametrize(
    ("executor", "blocker", "queued"),
    [
        (ThreadPoolExecutor(max_workers=1), ("tests.jobs:wait_for_gate", 30), "tests.jobs:record"),
        # every coroutine starts at once: the loop has no queue, so nothing is missed
        (AsyncIOExecutor(), ("tests.jobs:async_wait_for_gate",), "tests.jobs:async_wait_for_gate"),
        (ProcessPoolExecutor(max_workers=1), ("tests.jobs:sleep", 30), "tests.jobs:record"),
    ],
    ids=["threads", "asyncio", "processes"],
)
def test_a_shutdown_without_waiting_reports_every_fire(
    executor: Executor, blocker: tuple[object, ...], queued: str
) -> None:
    """Fires not started are reported missed; fires going are reported as they end
    (cancelled coroutines fail, killed workers fail, threads finish)."""
    reported: list[Finished] = []
    lock = threading.Lock()
    started = threading.Event()

    def on_finished(finished: Finished) -> None:
        with lock:
            reported.append(finished)

    context = ExecutionContext(
        resolve=import_ref,
        clock=ManualClock(T0),
        on_finished=on_finished,
        on_started=lambda fire, at: started.set(),
    )
    jobs.gate.clear()
    executor.start(context)
    executor.submit(fire(0, str(blocker[0]), *blocker[1:]))
    assert started.wait(60)  # the first fire holds the only worker
    for number in range(1, FIRES):
        executor.submit(fire(number, queued))
    executor.shutdown(wait=False)
    jobs.gate.set()  # a thread left running ends too, and reports
    eventually(lambda: len(reported) >= FIRES, timeout=30)
    counts = Counter(finished.fire.job_id for finished in reported)
    assert counts == {f"job-{number}": 1 for number in range(FIRES)}  # each exactly once
    assert all(f.result.outcome is not Outcome.RUNNING for f in reported)
    missed = [f for f in reported if f.result.outcome is Outcome.MISSED]
    assert bool(missed) is not isinstance(executor, AsyncIOExecutor)
    assert all(f.result.error == SHUT_DOWN and f.result.started_at is None for f in missed)
    assert all(f.result.finished_at == T0 for f in missed)  # the context's clock
