"""Holding fires claimed ahead of time and starting each at its scheduled moment."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from datetime import datetime

from tickwork.clock import Clock
from tickwork.store.base import Fire
from tickwork.supervision import Health, contained, supervised_thread


class AheadDispatcher:
    """A timer thread over a heap of claimed fires.

    Separate from the claim loop so a fire starts on time even while the loop is busy
    claiming the rest of a large burst.
    """

    def __init__(self, clock: Clock, release: Callable[[Fire], None], health: Health) -> None:
        self._clock = clock
        self._release = release
        self._health = health
        self._heap: list[tuple[datetime, int, Fire]] = []
        self._sequence = 0
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = supervised_thread("tickwork-dispatch", self._run, self._health)
        self._thread.start()

    def hold(self, fires: list[Fire]) -> None:
        """Keep ``fires`` until their scheduled time."""
        with self._changed:
            for fire in fires:
                self._sequence += 1
                heapq.heappush(self._heap, (fire.scheduled_time, self._sequence, fire))
            self._changed.notify()

    def stop(self) -> None:
        """Release what is held at its time (at most the claim-ahead window), then stop."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        with self._changed:
            while True:
                if not self._heap:
                    if self._stopping:
                        return
                    self._changed.wait()
                    continue
                due_in = (self._heap[0][0] - self._clock.now()).total_seconds()
                if due_in > 0:
                    self._changed.wait(due_in)
                    continue
                fire = heapq.heappop(self._heap)[2]
                self._changed.release()
                try:
                    contained(f"starting fire of job {fire.job_id!r}", self._release, fire)
                finally:
                    self._changed.acquire()
