"""The engine: one node's loop that claims due fires and hands them to executors."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tickwork._version import __version__
from tickwork.clock import Clock
from tickwork.engine.deadlines import Deadlines
from tickwork.engine.dispatcher import AheadDispatcher
from tickwork.engine.heartbeat import Heartbeat
from tickwork.engine.planner import plan_claim
from tickwork.engine.recorder import RunRecorder
from tickwork.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from tickwork.exceptions import ConfigurationError, NodeLookupError, StoreError
from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    Finished,
    cancelled_on_request,
    failure,
    missed_result,
    run_fire,
    timed_out,
    unstarted_result,
)
from tickwork.limits import DEFAULT_MIN_INTERVAL, MAX_DURATION
from tickwork.node import Node, NodeState, PauseState
from tickwork.run import Outcome, RunRequest, RunStart, SkipReason
from tickwork.store.base import ClaimPlan, Fire, Store
from tickwork.store.retry import backoff
from tickwork.supervision import Health, contained, describe, supervised_thread

logger = logging.getLogger(__name__)

#: Size of the first claim of a pass; later claims double up to ``batch_size``.
_FIRST_BATCH = 50


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Tuning knobs; the defaults suit most deployments."""

    #: Fires claimed per transaction.
    batch_size: int = 1000
    #: Fires due within this many seconds are claimed early and started on time, so the
    #: first fires of a burst do not wait for the claims of the last. A job changed or
    #: paused within this window before a fire still gets that one fire (a global or
    #: node pause does stop it).
    claim_ahead: float = 0.5
    #: Longest sleep when the store cannot push changes (SQLite) or while paused.
    poll_interval: float = 0.5
    #: Longest sleep in any case, as a safety net for lost notifications.
    max_idle: float = 30.0
    #: How often this node says it is alive and looks for dead ones.
    heartbeat_interval: float = 2.0
    #: A node silent for this long is declared dead and its unfinished runs become lost;
    #: with the next live node's heartbeat that is at most 10 s after a crash.
    node_timeout: float = 8.0
    #: Finished runs older than this many seconds are deleted (None keeps them forever).
    run_retention: float | None = 7 * 86_400.0
    #: Shortest interval an ``interval`` trigger may have, in seconds: each fire writes a
    #: run row, so a job every microsecond would flood the database (0 allows any).
    min_interval: float = DEFAULT_MIN_INTERVAL
    #: On shutdown, running jobs get this many seconds to finish; those still running
    #: then are recorded ``interrupted`` (None waits for ever).
    shutdown_grace: float | None = 30.0

    def __post_init__(self) -> None:
        for name in ("batch_size", "poll_interval", "max_idle", "heartbeat_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(
                    f"{name} must be a positive number, got {value!r}", field=name
                )
        if self.node_timeout <= self.heartbeat_interval:
            raise ConfigurationError(
                f"node_timeout ({self.node_timeout}) must exceed heartbeat_interval "
                f"({self.heartbeat_interval})",
                field="node_timeout",
            )
        if not 0 <= self.claim_ahead < self.node_timeout:
            raise ConfigurationError(
                f"claim_ahead must be at least 0 and below node_timeout, got {self.claim_ahead}",
                field="claim_ahead",
            )
        if (
            isinstance(self.min_interval, bool)
            or not isinstance(self.min_interval, int | float)
            or not 0 <= self.min_interval <= MAX_DURATION.total_seconds()
        ):
            raise ConfigurationError(
                f"min_interval must be a number of seconds >= 0, got {self.min_interval!r}",
                field="min_interval",
            )
        for name in ("run_retention", "shutdown_grace"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigurationError(
                    f"{name} must be positive or None, got {value}", field=name
                )


class Engine:
    """Claims due fires for one node and runs them.

    The loop sleeps until the earliest ``next_run_time`` and is woken early by :meth:`wake`
    (changes made in this process, or notifications from others).
    """

    def __init__(
        self,
        store: Store,
        node_id: str | None,
        *,
        executors: Mapping[str, Executor],
        resolve: Callable[[str], Callable[..., object]],
        clock: Clock,
        emit: Callable[[SchedulerEvent], None],
        wants: Callable[[int], bool],
        settings: EngineSettings | None = None,
        call_wrapper: Callable[[Callable[[], object]], object] | None = None,
    ) -> None:
        store.attach(self)
        self.store = store
        self.node_id = node_id or new_node_id()
        self._fixed_node_id = node_id is not None
        self._registered = False
        self.settings = settings or EngineSettings()
        self._executors = dict(executors)
        self._clock = clock
        self._emit = emit
        self._wants = wants
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pause = PauseState(global_paused=False, node_paused=False)
        self._pause_version = 0
        # Taken for the check-then-apply of pause state (heartbeat, claim and API threads)
        # and for every read or change of ``_in_flight`` (claim, workers, recorder,
        # heartbeat); held only for dictionary operations, never across a call out.
        self._lock = threading.Lock()
        #: Whether every internal thread still works; see :mod:`tickwork.supervision`.
        self.health = Health()
        self.health.observe(self._on_unhealthy)
        self._dispatcher = AheadDispatcher(clock, self._release, self.health)
        self._next_claim_at: datetime | None = None
        self._recorder = RunRecorder(store, self._report_finished, self.health)
        self._heartbeat = Heartbeat(self)
        self._claim_observers: list[Callable[[float, int], None]] = []
        # every fire this node claimed and has not recorded yet, by (job id, scheduled
        # time), with the node id it was claimed under: after a rejoin the old ones are stale
        self._in_flight: dict[tuple[str, datetime], tuple[Fire, str]] = {}
        self._forced = False
        #: How many runs the last :meth:`stop` recorded ``interrupted`` (0 after a start).
        self.interrupted = 0
        # monotonic time of the latest heartbeat the store accepted (see :meth:`admit`)
        self._alive_at = time.monotonic()
        self._fence_lock = threading.Lock()
        self._deadlines = Deadlines(self.health)
        self._context = ExecutionContext(
            resolve=resolve,
            clock=clock,
            on_finished=self._finished,
            call_wrapper=call_wrapper,
            on_started=self._started,
            health=self.health,
            admit=self.admit,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def register(self, paused: bool = False) -> None:
        """Add this node's row to the cluster; each start of an unnamed node is a new node."""
        if self._registered and not self._fixed_node_id:
            self.node_id = new_node_id()
        self._registered = True
        self._alive_at = time.monotonic()
        self._register_node(self.node_id, paused)
        # Known at once, not at the first claim: ``state`` right after a paused start says so.
        self.set_pause(PauseState(self._pause.global_paused, paused))

    def _register_node(self, node_id: str, paused: bool) -> None:
        now = self._clock.now()
        self.store.register_node(
            Node(
                id=node_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                version=__version__,
                state=NodeState.RUNNING,
                is_paused=paused,
                started_at=now,
                heartbeat_at=now,
                stopped_at=None,
            )
        )

    def rejoin(self) -> None:
        """Come back under a new id after the cluster declared this node dead."""
        self.node_id = new_node_id()
        self.register()
        self.wake()

    # -- fencing -----------------------------------------------------------------------------

    def note_alive(self, since: float) -> None:
        """The store accepted a heartbeat sent at monotonic time ``since``."""
        self._alive_at = max(self._alive_at, since)

    def fence(self, node_id: str) -> None:
        """This node, as ``node_id``, was declared dead: start nothing claimed under that
        id (its runs are ``lost`` already, maybe rerun elsewhere) and rejoin under a new id.

        Fires held for their time or queued in an executor are dropped when they come to
        start (see :meth:`admit`); runs already started cannot be stopped and report their
        outcome as usual.
        """
        with self._fence_lock:
            if self.node_id != node_id:
                return  # another thread fenced it already
            if self._stopping.is_set():
                # stopping (or unhealthy and marked stopped): drop what was claimed under
                # the old id, but do not join the cluster again
                self.node_id = new_node_id()
                return
            logger.error(
                "node %s was declared dead by the cluster (no heartbeat for %.0f s); "
                "dropping what it claimed and rejoining under a new id",
                node_id,
                self.settings.node_timeout,
            )
            self.rejoin()

    def admit(self, fire: Fire) -> bool:
        """Whether a claimed fire may start now; called just before it starts.

        A fire claimed under a node id that has since been fenced is not started, and is
        reported ``lost`` (which never replaces the outcome the reaper already wrote). When
        the last accepted heartbeat is older than half the node timeout, the cluster may be
        about to declare this node dead (it was frozen, or cut off), so the store is asked
        first. If the store cannot be reached the fire starts: its outcome is reported
        once the store is back, as for any run.
        """
        key = (fire.job_id, fire.scheduled_time)
        claimed_by = self._claimed_by(key)
        if claimed_by == self.node_id and self._lease_expired():
            self._confirm_alive(claimed_by)
        if self._claimed_by(key) == self.node_id:
            return True
        logger.warning(
            "not starting %s@%s: it was claimed by node %s, which was declared dead",
            fire.job_id,
            fire.scheduled_time.isoformat(),
            claimed_by,
        )
        reason = f"not started: node {claimed_by} was declared dead before the fire could start"
        self._recorder.record(
            Finished(fire, unstarted_result(fire, Outcome.LOST, self._clock.now(), reason))
        )
        return False

    def _claimed_by(self, key: tuple[str, datetime]) -> str:
        """The node id a fire in flight was claimed under (this node's for any other)."""
        with self._lock:
            entry = self._in_flight.get(key)
        return self.node_id if entry is None else entry[1]

    def _lease_expired(self) -> bool:
        return time.monotonic() - self._alive_at > self.settings.node_timeout / 2

    def _confirm_alive(self, node_id: str) -> None:
        sent = time.monotonic()
        try:
            version = self.pause_version()
            self.observe_pause(self.store.heartbeat(node_id), version)
        except NodeLookupError:
            self.fence(node_id)
        except StoreError as exc:
            logger.warning("cannot confirm node %s is alive (%s); starting anyway", node_id, exc)
        else:
            self.note_alive(sent)

    def start_executors(self) -> None:
        for executor in self._executors.values():
            executor.start(self._context)
        self._recorder.start()

    def start(self) -> None:
        """Start executors, the heartbeat and the claim loop (node already registered)."""
        self.start_executors()
        self._stopping.clear()
        self._forced = False
        self.interrupted = 0
        self._dispatcher.start()
        self._heartbeat.start()
        self.store.listen(self.wake)
        self._thread = supervised_thread("tickwork-engine", self._loop, self.health)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        """Stop claiming, let running jobs finish (``wait``) and write every outcome.

        Jobs get ``shutdown_grace`` seconds (or until :meth:`force_stop`); the runs still
        going then are recorded ``interrupted`` and left behind (:attr:`interrupted` says
        how many), so a job that never returns cannot hold the shutdown.
        """
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._dispatcher.stop()
        self.store.unlisten(self.wake)
        finished = self._wait_for_runs() if wait else True
        self._heartbeat.stop()  # beating until here: a long grace is no death
        if not finished:
            self._interrupt_running()
        self._deadlines.clear()
        # threads still running past their timeout would hold a waiting shutdown for ever
        waiting = wait and finished and not self._deadlines.overdue
        for executor in self._executors.values():
            contained("shutting an executor down", executor.shutdown, waiting)
        self._recorder.stop()
        self.store.stop_node(self.node_id)

    def force_stop(self) -> None:
        """Cut a :meth:`stop` in progress short, as if its grace period were over.

        Safe to call from a signal handler (it only sets a flag).
        """
        self._forced = True

    def _wait_for_runs(self) -> bool:
        """Wait for running jobs up to the grace period; True when all have finished."""
        grace = self.settings.shutdown_grace
        deadline = None if grace is None else time.monotonic() + grace
        while not self._forced:
            remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if remaining <= 0:
                return self._recorder.wait_idle(0)
            if self._recorder.wait_idle(remaining):
                return True
        return self._recorder.wait_idle(0)

    def _interrupt_running(self) -> None:
        """Record every run this node still has going as ``interrupted``, in one write."""
        self._recorder.stop()  # first write what did finish
        with self._lock:
            pending = [fire for fire, _ in self._in_flight.values()]
            self._in_flight.clear()
        self.interrupted = len(pending)
        if not pending:
            return
        now = self._clock.now()
        if self._forced:
            reason = "the node was stopped by a second signal before the run ended"
        else:
            reason = (
                f"the node shut down; the run was still going after the "
                f"{self.settings.shutdown_grace:g} s shutdown grace period"
            )
        logger.warning("%d runs still going at shutdown; recording them interrupted", len(pending))
        results = [unstarted_result(fire, Outcome.INTERRUPTED, now, reason) for fire in pending]
        contained("recording interrupted runs", self.store.finish_runs, results)

    def _on_unhealthy(self, reason: str) -> None:
        """A thread of this node cannot go on: stop claiming and leave the cluster, so the
        others take over (its running runs become lost) instead of trusting this node."""
        self._stopping.set()
        self._wakeup.set()
        contained("marking the unhealthy node stopped", self.store.stop_node, self.node_id)

    def wake(self) -> None:
        self._wakeup.set()

    def run_inline(self, job_id: str, request: RunRequest | None = None) -> Finished:
        """Run a job now in the calling thread, as a short-lived node of its own (with the
        arguments and requester of ``request``, see :meth:`Store.start_manual_run`).

        The node heartbeats while the job runs and stops when it ends, so if this process
        dies meanwhile the cluster's reaper marks the run lost instead of leaving it
        ``running`` for ever. ``KeyboardInterrupt`` (Ctrl+C, or a signal handler that
        raises it) is recorded ``interrupted`` and raised again.

        Each call is a node of its own, apart from this engine's id, so that concurrent
        inline runs (several request threads of a web process) each stop only their own.
        """
        node_id = new_node_id()
        self._register_node(node_id, paused=False)
        stop = threading.Event()
        pulse = supervised_thread("tickwork-pulse", lambda: self._pulse(stop, node_id), self.health)
        pulse.start()
        try:
            fire = self.store.start_manual_run(job_id, node_id, request)
            timeout = _InlineTimeout(self)
            try:
                func = self._context.resolve(fire.func_ref)
            except Exception as exc:
                finished = failure(fire, None, self._clock.now(), exc)
            else:
                finished = run_fire(
                    fire,
                    func,
                    self._clock,
                    self._context.call_wrapper,
                    timeout.started,
                    cancel=timeout.cancel,
                )
            if fire.timeout is not None and not self._deadlines.settle(finished):
                return timeout.recorded()
            interrupted = isinstance(finished.exception, KeyboardInterrupt)
            if interrupted:
                result = replace(
                    finished.result,
                    outcome=Outcome.INTERRUPTED,
                    error="the manual run was interrupted (KeyboardInterrupt or SIGTERM)",
                )
                finished = replace(finished, result=result)
            self.store.finish_runs([finished.result])
        finally:
            stop.set()
            pulse.join()
            self.store.stop_node(node_id)
        if interrupted:
            raise KeyboardInterrupt
        return finished

    def _pulse(self, stop: threading.Event, node_id: str) -> None:
        while not stop.wait(self.settings.heartbeat_interval):
            contained("the manual run's heartbeat", self.store.heartbeat, node_id)

    def _mark_started(self, fire: Fire, at: datetime) -> None:
        start = RunStart(fire.job_id, fire.scheduled_time, at)
        contained("recording a run's start", self.store.mark_runs_started, [start])

    # -- timeouts ----------------------------------------------------------------------------

    def _started(self, fire: Fire, at: datetime) -> None:
        """An executor starts ``fire``'s call: note it, and start its timeout's clock."""
        self._recorder.record_start(fire, at)
        if fire.timeout is not None:
            self._deadlines.arm(fire, at, self._time_out)

    def _finished(self, finished: Finished) -> None:
        """An executor reports how a fire ended: recorded, unless it timed out (or was
        cancelled) before; a fire without a timeout is checked only while some run is
        overdue, so the common case costs one attribute test."""
        if (
            finished.fire.timeout is not None or self._deadlines.overdue
        ) and not self._deadlines.settle(finished):
            return
        self._recorder.record(finished)

    def _time_out(self, fire: Fire, started: datetime) -> None:
        """``fire``'s timeout ran out (on the timer thread): record it ``timed_out`` now,
        which frees its ``max_instances`` slot cluster-wide, then let its executor stop it.

        This and :meth:`_finished` are where a run's outcome is decided; a retry policy
        deciding on ``timed_out`` belongs with the recording of either.
        """
        self._recorder.record(timed_out(fire, started, self._clock.now()))
        executor = self._executors.get(fire.executor)
        if executor is not None:
            executor.cancel(fire)

    def act_on_cancel_requests(self) -> None:
        """Cancel the runs of this node that were asked to (``Store.request_cancel``, from
        any node), as their timeout would: recorded ``cancelled`` now, then stopped as far
        as their executor can. Called by the heartbeat."""
        requested = self.store.cancel_requests(self.node_id)
        for key in requested:
            with self._lock:
                entry = self._in_flight.get(key)
            if entry is not None:
                self._deadlines.end_now(entry[0], self._cancel_on_request)

    def _cancel_on_request(self, fire: Fire, started: datetime | None) -> None:
        self._recorder.record(cancelled_on_request(fire, started, self._clock.now()))
        executor = self._executors.get(fire.executor)
        if executor is not None:
            contained("cancelling a run", executor.cancel, fire)

    @property
    def overdue_runs(self) -> int:
        """Runs of this node that timed out but whose call still runs (threads cannot be
        killed); each occupies a worker thread until it returns."""
        return self._deadlines.overdue

    def add_claim_observer(self, observer: Callable[[float, int], None]) -> None:
        """Call ``observer(seconds, fires)`` after each claim transaction (for metrics).

        It runs on the engine's thread between claims, so it must be quick and must not
        raise.
        """
        self._claim_observers.append(observer)

    def emit_event(self, event: SchedulerEvent) -> None:
        """Tell listeners; whatever they raise stays with them."""
        if self._wants(event.code):
            contained(f"delivering {type(event).__name__}", self._emit, event)

    @property
    def pause(self) -> PauseState:
        return self._pause

    def pause_version(self) -> int:
        """A counter of local pause changes; see :meth:`observe_pause`."""
        return self._pause_version

    def set_pause(self, pause: PauseState) -> None:
        """Take a pause change this process just committed; it wins over older reads."""
        with self._lock:
            self._pause_version += 1
            self._apply_pause(pause)

    def observe_pause(self, pause: PauseState, version: int) -> None:
        """Take pause state read from the store (heartbeat, claim).

        ``version`` is :meth:`pause_version` from before the read; if a local change came
        in meanwhile, the read may predate it and is dropped.
        """
        with self._lock:
            if version == self._pause_version:
                self._apply_pause(pause)

    def _apply_pause(self, pause: PauseState) -> None:
        """Call with the lock held."""
        was_paused = self._pause.paused
        self._pause = pause
        if was_paused and not pause.paused:
            self.wake()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted fire has finished and its outcome is written."""
        return self._recorder.wait_idle(timeout)

    # -- the loop ----------------------------------------------------------------------------

    def wake_for(self, next_run_time: datetime | None) -> None:
        """Wake the loop if a job now due at ``next_run_time`` needs an earlier claim than
        the one the loop is sleeping towards; adding far-future jobs costs the loop nothing."""
        if next_run_time is None:
            return
        planned = self._next_claim_at
        claim_at = next_run_time - timedelta(seconds=self.settings.claim_ahead)
        if planned is None or claim_at < planned:
            self._wakeup.set()

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._wakeup.clear()
            self._next_claim_at = None
            try:
                delay = self.process_due()
                failures = 0
            except StoreError as exc:
                failures += 1
                delay = backoff(failures)
                logger.warning("claim failed (%s); retrying in %.1f s", exc, delay)
            except Exception as exc:
                logger.exception("unexpected error in the engine loop: %s", describe(exc))
                delay = 1.0
            timeout = self._bounded(delay)
            self._next_claim_at = self._clock.now() + timedelta(seconds=timeout)
            self._wakeup.wait(timeout)

    def _bounded(self, delay: float | None) -> float:
        limit = self.settings.max_idle
        if not self.store.pushes_notifications or self._pause.paused:
            limit = min(limit, self.settings.poll_interval)
        if delay is None:
            return limit
        return max(0.0, min(delay, limit))

    def process_due(self) -> float | None:
        """Claim and dispatch everything due; return seconds until the next claim is due.

        Fires due within ``claim_ahead`` seconds are claimed now and held until their time,
        so the database work is done before the moment comes.
        """
        look_ahead = self.settings.claim_ahead
        # Start small and double while batches come back full: the first fires of a burst
        # start after a short claim, and the rest are claimed in large, cheap batches.
        limit = min(_FIRST_BATCH, self.settings.batch_size)
        while True:
            version = self.pause_version()
            claim_started = time.perf_counter()
            node_id = self.node_id
            result = self.store.claim_due(node_id, plan_claim, limit=limit, look_ahead=look_ahead)
            for observer in self._claim_observers:
                contained(
                    "a claim observer",
                    observer,
                    time.perf_counter() - claim_started,
                    len(result.plan.fires),
                )
            limit = min(limit * 2, self.settings.batch_size)
            self.observe_pause(result.pause, version)
            if not result.node_alive:
                self.fence(node_id)
                break
            self._dispatch(result.plan, node_id)
            if not result.batch_full or self._stopping.is_set():
                break
        if result.pause.paused or result.next_due_in is None:
            return None
        return result.next_due_in - look_ahead

    def _release(self, fire: Fire) -> None:
        """Start a fire claimed ahead, now that its time has come.

        One whose node or cluster was paused in the meantime is recorded as missed instead,
        as if the pause had come before the claim; one claimed by this node under an id
        since declared dead is dropped (see :meth:`admit`).
        """
        self._recorder.expect()
        if not self.admit(fire):
            return
        if self._pause.paused:
            reason = "the scheduler was paused before the fire's time"
            self._recorder.record(Finished(fire, missed_result(fire, self._clock.now(), reason)))
        else:
            self._submit_counted(fire)

    def _dispatch(self, plan: ClaimPlan, node_id: str) -> None:
        """Start or hold the fires ``node_id`` (this node's id at the claim) claimed."""
        now = self._clock.now()
        ahead = []
        with self._lock:
            self._in_flight.update(
                ((fire.job_id, fire.scheduled_time), (fire, node_id)) for fire in plan.fires
            )
        for fire in plan.fires:
            if fire.scheduled_time <= now:
                self.submit(fire)
            else:
                ahead.append(fire)
        if ahead:
            self._dispatcher.hold(ahead)
        if plan.skipped and self._wants(EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES):
            for skip in plan.skipped:
                if skip.reason is SkipReason.MAX_INSTANCES:
                    self.emit_event(
                        JobSubmissionEvent(
                            EVENT_JOB_MAX_INSTANCES,
                            job_id=skip.job_id,
                            scheduled_run_times=[skip.scheduled_time],
                        )
                    )
                else:
                    self.emit_event(
                        JobExecutionEvent(
                            EVENT_JOB_MISSED,
                            job_id=skip.job_id,
                            scheduled_run_time=skip.scheduled_time,
                        )
                    )
        if plan.removed and self._wants(EVENT_JOB_REMOVED):
            # the claim deleted these jobs, their triggers exhausted, as APScheduler does
            for job_id in plan.removed:
                self.emit_event(JobEvent(EVENT_JOB_REMOVED, job_id=job_id))

    def submit(self, fire: Fire) -> None:
        """Hand one claimed fire to its executor; never raises.

        A fire its executor refuses (no such executor, a pool that cannot take it) is
        recorded failed: the trouble is that fire's, not the thread's that submitted it.
        """
        self._recorder.expect()
        self._submit_counted(fire)

    def _submit_counted(self, fire: Fire) -> None:
        """:meth:`submit` for a fire whose outcome the recorder expects already."""
        with self._lock:
            self._in_flight.setdefault((fire.job_id, fire.scheduled_time), (fire, self.node_id))
        executor = self._executors.get(fire.executor)
        try:
            if executor is None:
                raise LookupError(f"no executor named {fire.executor!r}")
            if self._wants(EVENT_JOB_SUBMITTED):
                self.emit_event(
                    JobSubmissionEvent(
                        EVENT_JOB_SUBMITTED,
                        job_id=fire.job_id,
                        scheduled_run_times=[fire.scheduled_time],
                    )
                )
            executor.submit(fire)
        except BaseException as exc:  # the fire was not taken: it fails, the caller goes on
            logger.error("cannot start a fire of job %r: %s", fire.job_id, describe(exc))
            self._recorder.record(failure(fire, None, self._clock.now(), exc))

    def abandon_orphans(self, older_than: float) -> None:
        """Mark lost this node's runs that are ``running`` in the store but that it does
        not know of, claimed more than ``older_than`` seconds ago.

        They come from a claim whose commit reached the database while the connection
        failed, so the engine never got the fires; without this they would stay
        ``running`` for as long as the node lives.
        """
        with self._lock:
            known = set(self._in_flight)
        cutoff = self._clock.now() - timedelta(seconds=older_than)
        orphans = [
            (run.job_id, run.scheduled_time)
            for run in self.store.get_runs(
                node_id=self.node_id, outcome=Outcome.RUNNING, limit=10_000
            )
            if run.claimed_at < cutoff and (run.job_id, run.scheduled_time) not in known
        ]
        if orphans:
            logger.warning(
                "%d claimed runs never reached an executor; marking them lost", len(orphans)
            )
            self.store.abandon_runs(
                self.node_id, orphans, "claimed but never started (the claim's commit was in doubt)"
            )
            self.wake()

    def _report_finished(self, batch: list[Finished]) -> None:
        with self._lock:
            for finished in batch:
                self._in_flight.pop((finished.fire.job_id, finished.fire.scheduled_time), None)
        if not self._wants(EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED):
            return
        codes = {
            Outcome.SUCCEEDED: EVENT_JOB_EXECUTED,
            Outcome.FAILED: EVENT_JOB_ERROR,
            Outcome.MISSED: EVENT_JOB_MISSED,
        }
        for finished in batch:
            result = finished.result
            if result.outcome is Outcome.LOST:
                continue  # a fenced fire: the node that declared it lost reported that
            self.emit_event(
                JobExecutionEvent(
                    codes.get(result.outcome, EVENT_JOB_ERROR),
                    job_id=result.job_id,
                    scheduled_run_time=result.scheduled_time,
                    retval=finished.retval,
                    exception=finished.exception,
                    traceback=result.traceback,
                    started_at=result.started_at,
                    finished_at=result.finished_at,
                )
            )


class _InlineTimeout:
    """The timeout of one :meth:`Engine.run_inline` call, whose caller's thread runs the
    job: at the deadline the run is recorded ``timed_out`` and cancelled (see
    :func:`tickwork.current_run`); the call itself cannot be stopped."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.cancel = threading.Event()
        self._outcome: Finished | None = None
        self._done = threading.Event()

    def started(self, fire: Fire, at: datetime) -> None:
        self._engine._mark_started(fire, at)
        if fire.timeout is not None:
            self._engine._deadlines.arm(fire, at, self._expire)

    def _expire(self, fire: Fire, started: datetime) -> None:
        try:
            self._outcome = timed_out(fire, started, self._engine._clock.now())
            self.cancel.set()
            self._engine.store.finish_runs([self._outcome.result])
        finally:
            self._done.set()

    def recorded(self) -> Finished:
        """The ``timed_out`` outcome, once the timer thread has written it."""
        self._done.wait()
        assert self._outcome is not None
        return self._outcome


def new_node_id() -> str:
    """Readable and unique: host, pid and a random suffix (pids are reused)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"
