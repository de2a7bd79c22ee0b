"""Writing run outcomes back to the store in batches, off the workers' threads."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from tickwork.executors.base import Finished
from tickwork.run import Outcome, RunStart
from tickwork.store.base import Fire, Store
from tickwork.store.retry import backoff, is_transient
from tickwork.supervision import Health, contained, supervised_thread

logger = logging.getLogger(__name__)

_BATCH = 5000
#: A batch is written once no outcome arrived for this long ...
_LINGER = 0.01
#: ... or once its first outcome is this old.
_MAX_DELAY = 1.0
_STOP = object()
#: Once the scheduler shuts down, outcomes are waited for this long at most.
_GIVE_UP_WHEN_STOPPING = 10.0


@dataclass(frozen=True, slots=True)
class _Started:
    fire: Fire
    at: datetime


class RunRecorder:
    """Collects finished runs and writes them one transaction per batch.

    Workers only enqueue, so a slow database never holds a worker thread, and thousands of
    outcomes cost a handful of statements. Listeners are told after the outcome is durable.
    Start marks (``started_at`` of runs still running) travel the same way; a run that
    ends in the batch where it started needs none, so a burst of short jobs costs nothing
    extra.
    """

    def __init__(
        self,
        store: Store,
        after_write: Callable[[list[Finished]], None],
        health: Health,
    ) -> None:
        self._store = store
        self._after_write = after_write
        self._health = health
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0
        self._stopping = False

    def start(self) -> None:
        self._thread = supervised_thread("tickwork-recorder", self._run, self._health)
        self._thread.start()

    def expect(self) -> None:
        """Count a fire handed to an executor, so :meth:`wait_idle` waits for its outcome."""
        with self._idle:
            self._pending += 1

    def record(self, finished: Finished) -> None:
        self._queue.put(finished)

    def record_start(self, fire: Fire, at: datetime) -> None:
        """Note that ``fire``'s callable was started at ``at`` (written with the next batch)."""
        self._queue.put(_Started(fire, at))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every expected outcome is written (for shutdown and tests)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[Finished] = []
            starts: list[_Started] = []
            item = self._queue.get()
            started = time.monotonic()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                if isinstance(item, _Started):
                    starts.append(item)
                else:
                    assert isinstance(item, Finished)
                    batch.append(item)
                if len(batch) + len(starts) >= _BATCH or time.monotonic() - started >= _MAX_DELAY:
                    break
                try:
                    # Keep collecting while outcomes keep coming (a burst): writing later in
                    # one transaction costs far less than many small ones competing with
                    # the claims that start the burst's remaining fires.
                    item = self._queue.get(timeout=_LINGER)
                except queue.Empty:
                    break
            if starts:
                self._mark_started(starts, batch)
            if batch:
                self._write(batch)

    def _mark_started(self, starts: list[_Started], batch: list[Finished]) -> None:
        """Write start marks of runs that did not also end in this batch (best effort:
        the outcome brings ``started_at`` anyway)."""
        ended = {(f.fire.job_id, f.fire.scheduled_time) for f in batch}
        marks = [
            RunStart(s.fire.job_id, s.fire.scheduled_time, s.at)
            for s in starts
            if (s.fire.job_id, s.fire.scheduled_time) not in ended
        ]
        if marks:
            try:
                self._store.mark_runs_started(marks)
            except Exception as exc:  # never at the cost of the outcomes that follow
                logger.warning("cannot record the start of %d runs: %s", len(marks), exc)

    def _write(self, batch: list[Finished]) -> None:
        """Write a batch and tell listeners; whatever happens, the batch stops being pending."""
        try:
            written = self._store_outcomes(batch)
            if written:
                contained("reporting finished runs", self._after_write, written)
        finally:
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()

    def _store_outcomes(self, batch: list[Finished]) -> list[Finished]:
        """Write a batch, retrying while the database is unreachable; return what was written.

        A database that is down is waited for (outcomes are not dropped), but at most
        ``_GIVE_UP_WHEN_STOPPING`` seconds once the scheduler shuts down. A batch the
        database refuses (any other error, three times) is written run by run, and a run
        refused alone is written with a plain failure that names the problem, so one bad
        outcome neither blocks the others nor leaves its run ``running``.
        """
        failures = 0
        started = time.monotonic()
        while True:
            try:
                self._store.finish_runs([finished.result for finished in batch])
                return batch
            except Exception as exc:
                failures += 1
                stopping_too_long = (
                    self._stopping and time.monotonic() - started > _GIVE_UP_WHEN_STOPPING
                )
                if stopping_too_long:
                    logger.error(
                        "dropping %d run outcomes that cannot be recorded: %s", len(batch), exc
                    )
                    return []
                if not is_transient(exc) and failures >= 3:
                    return self._store_one_by_one(batch, exc)
                logger.warning("cannot record %d run outcomes (%s); retrying", len(batch), exc)
                time.sleep(backoff(failures))

    def _store_one_by_one(self, batch: list[Finished], batch_error: Exception) -> list[Finished]:
        if len(batch) > 1:
            logger.error(
                "cannot record %d run outcomes together (%s); recording them one by one",
                len(batch),
                batch_error,
            )
        written = []
        for finished in batch:
            for attempt in (finished, _plain(finished, batch_error)):
                try:
                    self._store.finish_runs([attempt.result])
                except Exception as exc:
                    logger.error(
                        "cannot record the outcome of job %r: %s", finished.fire.job_id, exc
                    )
                    continue
                written.append(attempt)
                break
        return written


def _plain(finished: Finished, error: Exception) -> Finished:
    """``finished`` as a failure with nothing but a short, plain error text."""
    result = replace(
        finished.result,
        outcome=Outcome.FAILED,
        result=None,
        error=f"the run's outcome could not be recorded ({type(error).__name__})",
        traceback=None,
    )
    return replace(finished, result=result)
