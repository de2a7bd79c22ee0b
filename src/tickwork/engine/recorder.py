"""Writing run outcomes back to the store in batches, off the workers' threads."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from tickwork.exceptions import DatabaseUnavailableError, StoreError
from tickwork.executors.base import Finished
from tickwork.store.base import Store

logger = logging.getLogger(__name__)

_BATCH = 5000
#: A batch is written once no outcome arrived for this long ...
_LINGER = 0.01
#: ... or once its first outcome is this old.
_MAX_DELAY = 1.0
_STOP = object()
#: Once the scheduler shuts down, outcomes are waited for this long at most.
_GIVE_UP_WHEN_STOPPING = 10.0


class RunRecorder:
    """Collects finished runs and writes them one transaction per batch.

    Workers only enqueue, so a slow database never holds a worker thread, and thousands of
    outcomes cost a handful of statements. Listeners are told after the outcome is durable.
    """

    def __init__(
        self,
        store: Store,
        after_write: Callable[[list[Finished]], None],
        retry_delay: float = 0.5,
    ) -> None:
        self._store = store
        self._after_write = after_write
        self._retry_delay = retry_delay
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0
        self._stopping = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tickwork-recorder", daemon=True)
        self._thread.start()

    def expect(self) -> None:
        """Count a fire handed to an executor, so :meth:`wait_idle` waits for its outcome."""
        with self._idle:
            self._pending += 1

    def record(self, finished: Finished) -> None:
        self._queue.put(finished)

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
            item = self._queue.get()
            started = time.monotonic()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, Finished)
                batch.append(item)
                if len(batch) >= _BATCH or time.monotonic() - started >= _MAX_DELAY:
                    break
                try:
                    # Keep collecting while outcomes keep coming (a burst): writing later in
                    # one transaction costs far less than many small ones competing with
                    # the claims that start the burst's remaining fires.
                    item = self._queue.get(timeout=_LINGER)
                except queue.Empty:
                    break
            if batch:
                self._write(batch)

    def _write(self, batch: list[Finished]) -> None:
        """Write a batch, retrying while the database is unreachable.

        A database that is down is waited for (outcomes are not dropped), but at most
        ``_GIVE_UP_WHEN_STOPPING`` seconds once the scheduler shuts down; any other error
        is retried twice, then the batch is logged and dropped rather than blocking
        everything behind it.
        """
        failures = 0
        started = time.monotonic()
        while True:
            try:
                self._store.finish_runs([finished.result for finished in batch])
                break
            except StoreError as exc:
                failures += 1
                transient = isinstance(exc, DatabaseUnavailableError)
                stopping_too_long = (
                    self._stopping and time.monotonic() - started > _GIVE_UP_WHEN_STOPPING
                )
                if (not transient and failures >= 3) or stopping_too_long:
                    logger.error(
                        "dropping %d run outcomes that cannot be recorded: %s", len(batch), exc
                    )
                    break
                logger.warning("cannot record %d run outcomes (%s); retrying", len(batch), exc)
                time.sleep(min(self._retry_delay * failures, 5.0))
        try:
            self._after_write(batch)
        except Exception:
            logger.exception("error while reporting finished runs")
        with self._idle:
            self._pending -= len(batch)
            self._idle.notify_all()
