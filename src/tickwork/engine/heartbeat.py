"""The node's pulse: say it is alive, learn pause state, bury dead nodes, prune history."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Protocol

from tickwork.events import EVENT_JOB_LOST, JobExecutionEvent, SchedulerEvent
from tickwork.exceptions import NodeLookupError, StoreError
from tickwork.node import PauseState
from tickwork.store.base import Store
from tickwork.supervision import Health, supervised_thread

logger = logging.getLogger(__name__)

#: History is pruned at most this often (seconds).
PRUNE_EVERY = 60.0
#: Every this many beats the node looks for runs it claimed but never got (see
#: :meth:`Engine.abandon_orphans`).
ORPHAN_CHECK_EVERY = 10


class PulseSettings(Protocol):
    @property
    def heartbeat_interval(self) -> float: ...
    @property
    def node_timeout(self) -> float: ...
    @property
    def run_retention(self) -> float | None: ...


class Beating(Protocol):
    """What a heartbeat needs of its node (the :class:`~tickwork.engine.Engine`).

    Declared here so that the heartbeat sits below the engine that owns it.
    """

    @property
    def store(self) -> Store: ...
    @property
    def node_id(self) -> str: ...
    @property
    def settings(self) -> PulseSettings: ...
    @property
    def health(self) -> Health: ...
    def pause_version(self) -> int: ...
    def observe_pause(self, pause: PauseState, version: int) -> None: ...
    def fence(self, node_id: str) -> None: ...
    def note_alive(self, since: float) -> None: ...
    def wake(self) -> None: ...
    def emit_event(self, event: SchedulerEvent) -> None: ...
    def abandon_orphans(self, older_than: float) -> None: ...
    def act_on_cancel_requests(self) -> None: ...


class Heartbeat:
    """Runs :meth:`beat` every ``heartbeat_interval`` seconds on its own thread."""

    def __init__(self, engine: Beating) -> None:
        self._engine = engine
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0
        self._beats = 0
        self._last_beat = time.monotonic()
        self._judge_after = 0.0

    def start(self) -> None:
        self._stop.clear()
        self._thread = supervised_thread("tickwork-heartbeat", self._run, self._engine.health)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        # an unhealthy node falls silent, so the cluster does not count on it (nor rejoin)
        while not self._stop.wait(self._engine.settings.heartbeat_interval):
            if not self._engine.health.healthy:
                return
            try:
                self.beat()
            except StoreError as exc:
                logger.warning("heartbeat failed: %s", exc)
            except Exception:
                logger.exception("unexpected error in the heartbeat")

    def beat(self) -> None:
        engine = self._engine
        store = engine.store
        node_id = engine.node_id
        sent = time.monotonic()
        try:
            version = engine.pause_version()
            engine.observe_pause(store.heartbeat(node_id), version)
        except NodeLookupError:
            engine.fence(node_id)
        else:
            engine.note_alive(sent)
        timeout = engine.settings.node_timeout
        now = time.monotonic()
        if now - self._last_beat > timeout:
            # This node could not heartbeat either (database outage): the others' silence
            # says nothing yet. Give them a full timeout to report before judging them.
            self._judge_after = now + timeout
        self._last_beat = now
        if now < self._judge_after:
            return
        engine.act_on_cancel_requests()
        lost = store.reap_dead_nodes(timeout)
        if any(run.rerun for run in lost):
            engine.wake()
        for run in lost:
            engine.emit_event(
                JobExecutionEvent(
                    EVENT_JOB_LOST, job_id=run.job_id, scheduled_run_time=run.scheduled_time
                )
            )
        self._beats += 1
        if self._beats % ORPHAN_CHECK_EVERY == 0:
            engine.abandon_orphans(older_than=engine.settings.node_timeout)
        retention = engine.settings.run_retention
        if retention is not None and time.monotonic() - self._last_prune >= PRUNE_EVERY:
            self._last_prune = time.monotonic()
            pruned = store.prune_runs(store.now() - timedelta(seconds=retention))
            if pruned:
                logger.info("pruned %d runs older than %g s", pruned, retention)
