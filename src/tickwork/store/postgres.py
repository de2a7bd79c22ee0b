"""PostgreSQL: many processes on many hosts sharing one database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Connection, create_engine, func
from sqlalchemy.engine import URL, make_url

from tickwork.clock import Clock
from tickwork.run import RunResult
from tickwork.store import queries as q
from tickwork.store.retry import backoff
from tickwork.store.sql import SQLStore

logger = logging.getLogger(__name__)

#: The LISTEN/NOTIFY channel on which nodes wake each other.
CHANNEL = "tickwork_wakeup"


class PostgresStore(SQLStore):
    """A store in PostgreSQL (psycopg 3).

    Claims lock job rows with ``FOR UPDATE SKIP LOCKED`` so nodes never wait on each other,
    due-ness is judged by the database's clock so skewed hosts cannot fire early, and
    changes are pushed to every node with ``NOTIFY``.
    """

    dialect = "postgresql"
    pushes_notifications = True

    def __init__(self, url: str | URL, *, clock: Clock | None = None, pool_size: int = 10) -> None:
        url = make_url(url)
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"not a PostgreSQL URL: {url!r}")
        url = url.set(drivername="postgresql+psycopg")
        self._url = url
        engine = create_engine(url, pool_size=pool_size, max_overflow=20)
        super().__init__(engine, clock=clock)
        self._listeners: list[Callable[[], None]] = []
        self._listen_thread: threading.Thread | None = None
        self._closing = threading.Event()

    def _database_clock(self) -> ColumnElement[Any]:
        return func.clock_timestamp()

    def _begin_write(self, conn: Connection) -> None:
        conn.begin()

    def _begin_read(self, conn: Connection) -> None:
        # A lone SELECT needs no BEGIN/COMMIT round trips.
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.begin()

    def _notify(self, conn: Connection) -> None:
        conn.execute(q.notify(CHANNEL))

    # Batches go to the server as one statement over arrays instead of one per row.

    def _set_next_run_times(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        conn.execute(
            q.update_next_run_times_from_arrays(),
            {
                "b_id": [row["b_id"] for row in rows],
                "b_next_run_time": [row["b_next_run_time"] for row in rows],
            },
        )

    def _insert_runs(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> set[tuple[str, datetime]]:
        columns = rows[0].keys()
        result = conn.execute(
            q.insert_claimed_runs_from_arrays(),
            {f"b_{name}": [row[name] for row in rows] for name in columns},
        )
        return {(job_id, moment) for job_id, moment in result}

    def _finish_runs(self, conn: Connection, results: Sequence[RunResult]) -> None:
        conn.execute(
            q.finish_runs_from_arrays(),
            {
                "b_job_id": [r.job_id for r in results],
                "b_scheduled_time": [r.scheduled_time for r in results],
                "b_outcome": [r.outcome.value for r in results],
                "b_started_at": [r.started_at for r in results],
                "b_finished_at": [r.finished_at for r in results],
                "b_result": [r.result for r in results],
                "b_error": [r.error for r in results],
                "b_traceback": [r.traceback for r in results],
            },
        )

    def listen(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)
        if self._listen_thread is None:
            self._closing = threading.Event()
            self._listen_thread = threading.Thread(
                target=self._listen_forever,
                args=(self._closing,),
                name="tickwork-listen",
                daemon=True,
            )
            self._listen_thread.start()

    def unlisten(self, callback: Callable[[], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)
        if not self._listeners:
            self._stop_listening()

    def close(self) -> None:
        self._listeners.clear()
        self._stop_listening()
        super().close()

    def _stop_listening(self) -> None:
        self._closing.set()
        if self._listen_thread is not None:
            self._listen_thread.join(timeout=5)
            self._listen_thread = None

    def _listen_forever(self, closing: threading.Event) -> None:
        """Hold a dedicated LISTEN connection; reconnect with backoff when it drops."""
        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        failures = 0
        while not closing.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    self._wake_all()  # changes may have been missed while disconnected
                    while not closing.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._wake_all()
            except Exception as exc:  # not only psycopg's: this thread must not die
                if closing.is_set():
                    return
                failures += 1
                delay = backoff(failures)
                logger.warning("LISTEN connection lost (%s); retrying in %.1f s", exc, delay)
                closing.wait(delay)

    def _wake_all(self) -> None:
        for callback in list(self._listeners):
            callback()
