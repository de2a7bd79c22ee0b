"""The scheduler: APScheduler's Python API on a durable, shared store."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, TextIO, TypeVar, overload
from zoneinfo import ZoneInfo

from tickwork.clock import Clock, SystemClock
from tickwork.engine import Engine, EngineSettings
from tickwork.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    JobEvent,
    SchedulerEvent,
)
from tickwork.exceptions import (
    ConfigurationError,
    JobFinishedError,
    SchedulerStateError,
)
from tickwork.executors import Executor, ThreadPoolExecutor, build_executor
from tickwork.job import PAUSE_NOTE, REQUESTER, Job, bind
from tickwork.jobbuild import JobBuilder, check_job_defaults, run_request, undefined
from tickwork.node import Node, SchedulerState
from tickwork.run import Outcome, Run
from tickwork.store import Store, create_store
from tickwork.supervision import contained
from tickwork.tasks import TaskRegistry
from tickwork.triggers import Trigger
from tickwork.triggers._time import coerce_timezone, local_timezone

logger = logging.getLogger(__name__)

STATE_STOPPED = 0
STATE_RUNNING = 1
STATE_PAUSED = 2

F = TypeVar("F", bound=Callable[..., Any])


class Scheduler:
    """A scheduler node whose jobs, schedules, pause state and history live in a database.

    :param url: SQLAlchemy URL of the store (default ``sqlite:///tickwork.sqlite``).
    :param store: a ready :class:`~tickwork.store.Store` instead of ``url``.
    :param timezone: zone for triggers that name none (default: the machine's zone).
    :param executors: name → :class:`Executor` or ``{"type": "threadpool", ...}``.
    :param job_defaults: defaults of job options
        (:data:`tickwork.job.OPTION_DEFAULTS` lists them).
    :param allowed_callables: patterns (``"myapp.jobs:*"``) that untrusted callers such as
        the REST API may schedule besides registered tasks.
    :param clock: where time comes from (tests inject a manual clock).
    :param node_id: this process's node id (default: host, pid and a random suffix).
    :param settings: engine tuning (batch size, poll and heartbeat intervals, retention).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        store: Store | None = None,
        timezone: str | ZoneInfo | None = None,
        executors: Mapping[str, Executor | dict[str, Any]] | None = None,
        job_defaults: Mapping[str, Any] | None = None,
        allowed_callables: Iterable[str] = (),
        clock: Clock | None = None,
        node_id: str | None = None,
        settings: EngineSettings | None = None,
        call_wrapper: Callable[[Callable[[], Any]], Any] | None = None,
    ) -> None:
        if store is not None and url is not None:
            raise ConfigurationError("give either url or store, not both")
        self.clock: Clock = clock or SystemClock()
        self.store: Store = store or create_store(url, clock=clock)
        self.timezone: ZoneInfo = (
            coerce_timezone(timezone) if timezone is not None else local_timezone()
        )
        self.job_defaults = check_job_defaults(job_defaults or {})
        self.registry = TaskRegistry(allowed_callables)
        executor_specs = dict(executors or {})
        executor_specs.setdefault("default", ThreadPoolExecutor())
        self.executors: dict[str, Executor] = {
            name: build_executor(spec) for name, spec in executor_specs.items()
        }
        self.auth_callback: Callable[..., Any] | None = None
        self._listeners: list[tuple[Callable[[SchedulerEvent], Any], int]] = []
        self._listener_mask = 0
        self._lock = threading.RLock()
        self._store_ready = False
        self._running = False
        #: This node is paused because it was started with ``paused=True`` (not by
        #: :meth:`pause_node`), so :meth:`resume` lifts it, as APScheduler's does.
        self._started_paused = False
        self._engine = Engine(
            self.store,
            node_id,
            executors=self.executors,
            resolve=self.registry.resolve,
            clock=self.clock,
            emit=self._dispatch_event,
            wants=self._wants,
            settings=settings,
            call_wrapper=call_wrapper,
        )
        self.builder = JobBuilder(
            self.registry,
            timezone=self.timezone,
            clock=self.clock,
            executors=self.executors,
            defaults=self.job_defaults,
            min_interval=self._engine.settings.min_interval,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self._engine.node_id

    @property
    def running(self) -> bool:
        return self._running

    @property
    def state(self) -> int:
        """``STATE_STOPPED``, ``STATE_RUNNING``, or ``STATE_PAUSED`` (global or node pause)."""
        if not self._running:
            return STATE_STOPPED
        return STATE_PAUSED if self._engine.pause.paused else STATE_RUNNING

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def healthy(self) -> bool:
        """False once an internal thread could not go on; :attr:`health_reason` says why.

        An unhealthy node has stopped claiming and left the cluster; restart the process.
        """
        return self._engine.health.healthy

    @property
    def health_reason(self) -> str | None:
        return self._engine.health.reason

    def start(self, paused: bool = False) -> None:
        """Join the cluster and start firing jobs.

        ``paused`` starts this node paused until :meth:`resume` (APScheduler's idiom) or
        :meth:`resume_node`; the other nodes keep firing.
        """
        with self._lock:
            if self._running:
                raise SchedulerStateError("the scheduler is already running")
            self._ensure_store()
            self._engine.register(paused=paused)
            self._engine.start()
            self._running = True
            self._started_paused = paused
        self._emit(SchedulerEvent(EVENT_SCHEDULER_STARTED))

    def shutdown(self, wait: bool = True) -> None:
        """Stop firing; with ``wait`` let running jobs finish. Outcomes are all recorded."""
        with self._lock:
            if not self._running:
                raise SchedulerStateError("the scheduler is not running")
            self._running = False
            self._engine.stop(wait=wait)
        self._emit(SchedulerEvent(EVENT_SCHEDULER_SHUTDOWN))

    def close(self) -> None:
        """Shut down if running and release the database connections."""
        if self._running:
            self.shutdown()
        self.store.close()

    def wakeup(self) -> None:
        """Make the engine look for due jobs now."""
        self._engine.wake()

    def open_store(self, *, create: bool = True) -> None:
        """Open the store (migrating it to the current schema) without starting the node.

        Every method does this on first use; call it yourself with ``create=False`` to
        refuse a database that does not exist yet (what the CLI does, so a mistyped path
        is an error rather than a new, empty database).
        """
        if not self._store_ready:
            self.store.start(create=create)
            self._store_ready = True

    def _ensure_store(self) -> None:
        self.open_store()

    # -- pause: global and per node -----------------------------------------------------------

    def pause(self) -> SchedulerState:
        """Pause the whole cluster (the scheduler row). Nodes keep their own pause state."""
        return self._set_global_pause(True)

    def resume(self) -> SchedulerState:
        """Lift the global pause, and this node's pause if :meth:`start` set it.

        APScheduler's ``start(paused=True)`` ... ``resume()`` thus runs jobs. Every other
        node returns to its own pause state, and so does this one if it was paused with
        :meth:`pause_node`: that pause is lifted only by :meth:`resume_node`.
        """
        with self._lock:
            state = self._set_global_pause(False)
            if self._started_paused:
                self._set_node_pause(self.node_id, False)
        return state

    def resume_cluster(self) -> SchedulerState:
        """Lift only the global pause: each node, this one included, returns to its own
        pause state (what the REST API's resume does, whichever node serves it)."""
        return self._set_global_pause(False)

    def _set_global_pause(self, paused: bool) -> SchedulerState:
        self._ensure_store()
        state = self.store.set_global_paused(paused)
        current = self._engine.pause
        self._engine.set_pause(type(current)(paused, current.node_paused))
        self._emit(SchedulerEvent(EVENT_SCHEDULER_PAUSED if paused else EVENT_SCHEDULER_RESUMED))
        return state

    def get_scheduler_state(self) -> SchedulerState:
        self._ensure_store()
        return self.store.get_scheduler_state()

    def get_nodes(self, include_stopped: bool = False) -> list[Node]:
        self._ensure_store()
        return self.store.get_nodes(include_stopped=include_stopped)

    def get_node(self, node_id: str | None = None) -> Node:
        self._ensure_store()
        return self.store.get_node(node_id or self.node_id)

    def pause_node(self, node_id: str | None = None) -> Node:
        """Pause one node (default: this one); the others keep firing."""
        return self._set_node_pause(node_id, True)

    def resume_node(self, node_id: str | None = None) -> Node:
        return self._set_node_pause(node_id, False)

    def _set_node_pause(self, node_id: str | None, paused: bool) -> Node:
        self._ensure_store()
        node = self.store.set_node_paused(node_id or self.node_id, paused)
        if node.id == self.node_id:
            self._started_paused = False  # an explicit node pause or resume takes over
            current = self._engine.pause
            self._engine.set_pause(type(current)(current.global_paused, paused))
        return node

    # -- listeners and auth ------------------------------------------------------------------

    def add_listener(
        self, callback: Callable[[SchedulerEvent], Any], mask: int = EVENT_ALL
    ) -> None:
        with self._lock:
            self._listeners.append((callback, mask))
            self._listener_mask |= mask

    def remove_listener(self, callback: Callable[[SchedulerEvent], Any]) -> None:
        with self._lock:
            self._listeners = [(cb, mask) for cb, mask in self._listeners if cb != callback]
            mask = 0
            for _, listener_mask in self._listeners:
                mask |= listener_mask
            self._listener_mask = mask

    def authenticate(self, func: F) -> F:
        """Register the REST API's authentication callback (Flask-APScheduler's decorator)."""
        self.auth_callback = func
        return func

    def _wants(self, codes: int) -> bool:
        return bool(self._listener_mask & codes)

    def _emit(self, event: SchedulerEvent) -> None:
        if self._listener_mask & event.code:
            self._dispatch_event(event)

    def _dispatch_event(self, event: SchedulerEvent) -> None:
        for callback, mask in list(self._listeners):
            if mask & event.code:
                # SystemExit and KeyboardInterrupt too: a listener never stops a thread
                contained(f"event listener {callback!r}", callback, event)

    # -- tasks -------------------------------------------------------------------------------

    @overload
    def task(
        self, func_or_trigger: F, /, *, name: str | None = None, id: str | None = None
    ) -> F: ...

    @overload
    def task(
        self,
        func_or_trigger: str | Trigger | None = None,
        /,
        *,
        name: str | None = None,
        id: str | None = None,
        **job_options: Any,
    ) -> Callable[[F], F]: ...

    def task(
        self,
        func_or_trigger: Callable[..., Any] | str | Trigger | None = None,
        /,
        *,
        name: str | None = None,
        id: str | None = None,
        **job_options: Any,
    ) -> Any:
        """Register a callable by name; with a trigger, also schedule it.

        ``@scheduler.task`` and ``@scheduler.task(name="cleanup")`` register the function so
        that the REST API may schedule it. Flask-APScheduler's form
        ``@scheduler.task("interval", id="job1", seconds=30)`` registers it and adds (or
        replaces) the job.
        """
        if callable(func_or_trigger) and not isinstance(func_or_trigger, Trigger):
            return self.registry.register(func_or_trigger, name)
        trigger = func_or_trigger

        def decorate(func: F) -> F:
            self.registry.register(func, name)
            if trigger is not None:
                self.add_job(
                    func,
                    trigger,
                    id=id or self.registry.ref_for(func),
                    replace_existing=True,
                    **job_options,
                )
            elif job_options or id:
                raise ConfigurationError(
                    f"task options {sorted(job_options)} need a trigger to schedule the task"
                )
            return func

        return decorate

    # -- jobs --------------------------------------------------------------------------------

    def add_job(  # noqa: PLR0917  # APScheduler 3's positional order
        self,
        func: Callable[..., Any] | str,
        trigger: str | Trigger | None = None,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: float | None = undefined,
        coalesce: bool = undefined,
        max_instances: int = undefined,
        next_run_time: datetime | None = undefined,
        jobstore: str = "default",
        executor: str = undefined,
        replace_existing: bool = False,
        **trigger_args: Any,
    ) -> Job:
        """Store a new job and wake the engine; APScheduler 3's signature and order.

        ``id`` defaults to a random hex string and ``name`` to the callable's qualified name,
        as in APScheduler. Options left out take ``job_defaults``. Trigger arguments
        (``seconds=5``, ``hour="9"``, ``jitter=10``) and tickwork's own options (the other
        option fields of :class:`~tickwork.job.Job`, such as ``rerun_lost``) are keywords.
        A duplicate id raises ConflictError unless ``replace_existing`` is set.
        """
        options = {
            key: value
            for key, value in (
                ("misfire_grace_time", misfire_grace_time),
                ("coalesce", coalesce),
                ("max_instances", max_instances),
                ("next_run_time", next_run_time),
                ("executor", executor),
            )
            if value is not undefined
        }
        options.update(trigger_args)
        _check_jobstore(jobstore)
        job = self.builder.build(
            id, func, trigger=trigger, args=args, kwargs=kwargs, name=name, options=options
        )
        self._ensure_store()
        self.store.add_jobs([job], replace_existing=replace_existing)
        self._engine.wake_for(job.next_run_time)
        self._emit(JobEvent(EVENT_JOB_ADDED, job_id=job.id))
        return bind(job, self)

    def scheduled_job(
        self,
        trigger: str | Trigger | None,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        **options: Any,
    ) -> Callable[[F], F]:
        """APScheduler's decorator: ``@scheduler.scheduled_job("cron", hour=17)`` adds the
        function as a job (replacing one with the same id, since the decorator runs at every
        import) and returns it unchanged. :meth:`task` also registers it for the REST API."""

        def decorate(func: F) -> F:
            self.add_job(func, trigger, args, kwargs, id, name, replace_existing=True, **options)
            return func

        return decorate

    def print_jobs(self, jobstore: str | None = None, out: TextIO | None = None) -> None:
        """Print every job as APScheduler does (``out`` defaults to standard output).

        Jobs are stored as soon as they are added, so the list is the store's, running or
        not: APScheduler prints "Pending jobs" while it is stopped.
        """
        _check_jobstore(jobstore)
        out = out or sys.stdout
        print("Jobstore default:", file=out)
        jobs = self.get_jobs()
        for job in jobs:
            print(f"    {job}", file=out)
        if not jobs:
            print("    No scheduled jobs", file=out)

    def add_jobs(
        self, specs: Iterable[Mapping[str, Any]], *, replace_existing: bool = False
    ) -> list[Job]:
        """Add many jobs in one transaction; each spec holds :meth:`add_job`'s arguments.

        Either all are stored or, on any bad spec or taken id, none.
        """
        jobs = self.builder.build_all(specs)
        self._ensure_store()
        self.store.add_jobs(jobs, replace_existing=replace_existing)
        next_run_times = [job.next_run_time for job in jobs if job.next_run_time is not None]
        self._engine.wake_for(min(next_run_times, default=None))
        if self._wants(EVENT_JOB_ADDED):
            for job in jobs:
                self._emit(JobEvent(EVENT_JOB_ADDED, job_id=job.id))
        return [bind(job, self) for job in jobs]

    def get_job(self, job_id: str, jobstore: str | None = None) -> Job | None:
        """The job, or None when there is no such job (as APScheduler)."""
        _check_jobstore(jobstore)
        self._ensure_store()
        try:
            job = self.store.get_job(job_id)
        except KeyError:
            return None
        return bind(job, self)

    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Job]:
        """Every job, by next run time (paused last). Use :meth:`iter_jobs` for big stores."""
        _check_jobstore(jobstore)
        self._ensure_store()
        return [bind(job, self) for job in self.store.get_jobs()]

    def iter_jobs(self, page_size: int = 1000, after: str | None = None) -> Iterator[Job]:
        """Every job by id, fetched a page at a time so memory stays flat.

        ``after`` starts past that id: the keyset cursor of the REST API's job pages.
        """
        self._ensure_store()
        while True:
            page = self.store.get_jobs(after=after, limit=page_size, order="id")
            for job in page:
                yield bind(job, self)
            if len(page) < page_size:
                return
            after = page[-1].id

    def count_jobs(self) -> int:
        self._ensure_store()
        return self.store.count_jobs()

    def count_broken_jobs(self) -> int:
        """Jobs the engine stopped scheduling because it could not read or plan them."""
        self._ensure_store()
        return self.store.count_broken_jobs()

    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job:
        """Change job options; a ``trigger`` (name plus its arguments, or an instance)
        reschedules the job, as :meth:`reschedule_job` does."""
        _check_jobstore(jobstore)
        return self._update(job_id, self.builder.change(changes))

    def reschedule_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        trigger: str | Trigger | None = None,
        **trigger_args: Any,
    ) -> Job:
        """Give the job a new trigger and compute its next run time from now."""
        return self.modify_job(job_id, jobstore, trigger=trigger, **trigger_args)

    def pause_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        note: str | None = None,
        requested_by: str | None = None,
    ) -> Job:
        """Stop scheduling the job until :meth:`resume_job`.

        The job keeps ``note`` (why; one line of at most
        :data:`~tickwork.limits.MAX_PAUSE_NOTE_CHARS` characters, an empty one is none),
        ``requested_by`` (who) and the time as ``paused_note``, ``paused_by`` and
        ``paused_at`` while it stays paused; each pause sets all three.

        :raises InvalidJobError: naming ``note`` or ``requested_by``; the job is unchanged.
        """
        _check_jobstore(jobstore)
        PAUSE_NOTE.check("note", note)
        REQUESTER.check("requested_by", requested_by)
        now = self.clock.now()
        return self._update(
            job_id,
            lambda job: job.evolve(
                next_run_time=None,
                paused_note=note or None,
                paused_by=requested_by,
                paused_at=now,
            ),
        )

    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job:
        """Resume from now.

        Unlike APScheduler, which removes a job whose trigger has no fire time left, this
        raises :class:`JobFinishedError` and keeps the job (and its history) as it was:
        resuming is not a request to delete.
        """
        _check_jobstore(jobstore)
        now = self.clock.now()

        def resume(job: Job) -> Job:
            next_run_time = job.trigger.next_fire_time(None, now)
            if next_run_time is None:
                raise JobFinishedError(job.id)
            return job.evolve(next_run_time=next_run_time)

        return self._update(job_id, resume)

    def _update(self, job_id: str, change: Callable[[Job], Job]) -> Job:
        self._ensure_store()
        job = self.store.update_job(job_id, change)
        self._engine.wake_for(job.next_run_time)
        self._emit(JobEvent(EVENT_JOB_MODIFIED, job_id=job_id))
        return bind(job, self)

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        _check_jobstore(jobstore)
        self._ensure_store()
        self.store.remove_job(job_id)
        self._emit(JobEvent(EVENT_JOB_REMOVED, job_id=job_id))

    def remove_all_jobs(self, jobstore: str | None = None) -> None:
        _check_jobstore(jobstore)
        self._ensure_store()
        self.store.remove_all_jobs()
        self._emit(SchedulerEvent(EVENT_ALL_JOBS_REMOVED, alias=jobstore))

    def run_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        *,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        requested_by: str | None = None,
    ) -> Job:
        """Run the job now, outside its schedule, recorded in history.

        A running scheduler hands the run to the job's executor. A stopped one runs it in
        the calling thread, as Flask-APScheduler does, and records the outcome; meanwhile
        it counts as a node of the cluster (see :meth:`Engine.run_inline`), so a run whose
        process dies is marked lost, and Ctrl+C records it ``interrupted``.

        ``args`` and ``kwargs`` replace the job's own for this run only (each left None:
        the job's), checked as a job's are; the run records them and ``requested_by``
        (who asked), the job is unchanged.

        :raises InvalidJobError: naming ``args``, ``kwargs`` or ``requested_by``; nothing
            is recorded.
        """
        _check_jobstore(jobstore)
        request = run_request(args, kwargs, requested_by)
        self._ensure_store()
        job = self.store.get_job(job_id)
        if self._running:
            self._engine.submit(self.store.start_manual_run(job_id, self.node_id, request))
        else:
            self._engine.run_inline(job_id, request)
        return bind(job, self)

    # -- history -----------------------------------------------------------------------------

    def get_runs(
        self,
        job_id: str | None = None,
        *,
        outcome: Outcome | str | None = None,
        node_id: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Run]:
        """Run history, newest first; ``before`` is the id cursor of the previous page."""
        self._ensure_store()
        if outcome is not None:
            try:
                outcome = Outcome(outcome)
            except ValueError:
                raise ConfigurationError(
                    f"outcome {outcome!r} is not one of {[o.value for o in Outcome]}"
                ) from None
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ConfigurationError(f"limit must be an integer from 1 to 10000, got {limit!r}")
        return self.store.get_runs(
            job_id=job_id, outcome=outcome, node_id=node_id, before=before, limit=limit
        )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every finished run's outcome is written (handy in tests)."""
        return self._engine.wait_idle(timeout)


def _check_jobstore(jobstore: str | None) -> None:
    if jobstore not in (None, "default"):
        raise ConfigurationError(
            f"jobstore {jobstore!r} does not exist: tickwork keeps every job in one store"
        )
