"""Run timeouts: one timer thread per node, and the one place that decides how a run with a
timeout ended (its call's own outcome, or ``timed_out``)."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tickwork.executors.base import Finished
from tickwork.store.base import Fire
from tickwork.supervision import Health, contained, supervised_thread

logger = logging.getLogger(__name__)

_Key = tuple[str, datetime]
#: Longest single wait of the timer thread (a timeout may be a century: within what a
#: lock's wait accepts on every platform).
_LONGEST_WAIT = 3600.0
#: Told ``(fire, started)`` when the fire's timeout ran out (on the timer thread).
Expire = Callable[[Fire, datetime], None]
#: Told ``(fire, started or None)`` when the fire is ended early on request.
EndNow = Callable[[Fire, datetime | None], None]


@dataclass(eq=False, slots=True)
class _Armed:
    fire: Fire
    started: datetime
    due: float  # time.monotonic()
    expire: Expire


class Deadlines:
    """Deadlines of the runs with a timeout that this node started.

    Only runs with a timeout come here, and the thread exists only while one is armed, so
    a node whose jobs have none pays nothing. A run ends once: :meth:`settle` (its call
    reported) and the deadline race under one lock, and the loser is dropped. A run that
    timed out and has not reported yet is *overdue*: its executor could not stop it (a
    thread), so it still occupies a worker.
    """

    def __init__(self, health: Health) -> None:
        self._health = health
        self._changed = threading.Condition()
        self._armed: dict[_Key, _Armed] = {}
        self._heap: list[tuple[float, int, _Armed]] = []
        self._sequence = 0
        self._overdue: dict[_Key, float] = {}  # timed-out runs not reported yet: due time
        self._thread: threading.Thread | None = None

    def arm(self, fire: Fire, started: datetime, expire: Expire) -> None:
        """Start ``fire``'s clock (its call starts now); ``fire.timeout`` must be set."""
        assert fire.timeout is not None
        entry = _Armed(fire, started, time.monotonic() + fire.timeout, expire)
        with self._changed:
            if (fire.job_id, fire.scheduled_time) in self._overdue:
                return  # ended on request before its call started: nothing to time
            self._armed[(fire.job_id, fire.scheduled_time)] = entry
            self._sequence += 1
            heapq.heappush(self._heap, (entry.due, self._sequence, entry))
            if self._thread is None:
                self._thread = supervised_thread("tickwork-timeouts", self._run, self._health)
                self._thread.start()
            self._changed.notify()

    def settle(self, finished: Finished) -> bool:
        """Whether ``finished`` is its run's outcome: False when the run timed out (or was
        ended on request) first: the late outcome is logged here and must not be recorded."""
        key = (finished.fire.job_id, finished.fire.scheduled_time)
        with self._changed:
            if self._armed.pop(key, None) is not None:
                self._compact()
                return True
            due = self._overdue.pop(key, None)
        if due is None:
            return True  # never armed: it ended before its call started
        result = finished.result
        logger.warning(
            "the run of job %r at %s was ended %.1f s before its call; its late outcome is "
            "not recorded: %s%s",
            result.job_id,
            result.scheduled_time.isoformat(),
            time.monotonic() - due,
            result.outcome.value,
            f" ({result.error})" if result.error else "",
        )
        return False

    def end_now(self, fire: Fire, end: EndNow) -> None:
        """End ``fire``'s run now, as its timeout would (a cancel request): ``end`` is told
        unless the run has ended or timed out already; its own report is then dropped."""
        key = (fire.job_id, fire.scheduled_time)
        with self._changed:
            if key in self._overdue:
                return
            entry = self._armed.pop(key, None)
            self._overdue[key] = time.monotonic()
        end(fire, entry.started if entry is not None else None)

    @property
    def overdue(self) -> int:
        """Runs that timed out and whose call has not returned yet (zombie threads)."""
        return len(self._overdue)

    def clear(self) -> None:
        """Forget every armed deadline (the node stopped; its runs were recorded already)."""
        with self._changed:
            self._armed.clear()
            self._heap.clear()
            self._changed.notify()

    def _compact(self) -> None:
        """Drop settled entries once they are most of the heap (call with the lock held),
        so long timeouts over many short runs cannot grow it without bound."""
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._armed):
            self._heap = [item for item in self._heap if self._is_armed(item[2])]
            heapq.heapify(self._heap)

    def _is_armed(self, entry: _Armed) -> bool:
        return self._armed.get((entry.fire.job_id, entry.fire.scheduled_time)) is entry

    def _run(self) -> None:
        with self._changed:
            while True:
                while self._heap and not self._is_armed(self._heap[0][2]):
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._thread = None  # the next arm starts a new one
                    return
                due, _, entry = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._changed.wait(min(wait, _LONGEST_WAIT))
                    continue
                heapq.heappop(self._heap)
                key = (entry.fire.job_id, entry.fire.scheduled_time)
                del self._armed[key]
                self._overdue[key] = entry.due
                self._changed.release()
                try:
                    contained(
                        f"timing out a run of job {entry.fire.job_id!r}",
                        entry.expire,
                        entry.fire,
                        entry.started,
                    )
                finally:
                    self._changed.acquire()
