"""Job functions shared by both libraries in the engine benchmark.

Both schedulers store jobs by reference (``bench.jobs:mark``), so the function must live in an
importable module. Each child process runs one scheduler, so module-level state is private to
that run.
"""

from __future__ import annotations

import threading
import time

#: ``(job argument, time.time() at the start of the call)`` for every executed fire.
STARTS: list[tuple[int, float]] = []
#: Fires reported missed by the scheduler's listener.
MISSED: list[str] = []
_changed = threading.Condition()


def mark(i: int) -> None:
    """Record when the fire started; the clock is read first so lateness excludes locking."""
    started = time.time()
    with _changed:
        STARTS.append((i, started))
        _changed.notify_all()


def record_missed(job_id: str) -> None:
    """Called from a missed-fire listener, so waiters count missed fires as settled."""
    with _changed:
        MISSED.append(job_id)
        _changed.notify_all()


def reset() -> None:
    """Forget previous fires (the latency scenario reuses one process for many fires)."""
    with _changed:
        STARTS.clear()
        MISSED.clear()


def wait_settled(count: int, timeout: float) -> bool:
    """Block until ``count`` fires have run or been missed; False on timeout.

    A condition variable instead of a polling loop, so waiting costs no CPU on the shared
    2-core machine.
    """
    with _changed:
        return _changed.wait_for(lambda: len(STARTS) + len(MISSED) >= count, timeout)
