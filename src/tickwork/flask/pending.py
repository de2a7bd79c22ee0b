"""What the extension is asked before it has a scheduler: Flask-APScheduler's pending jobs.

Flask-APScheduler builds its APScheduler scheduler in the constructor, so an app may add
jobs, register tasks and add listeners before ``init_app``; APScheduler keeps such jobs
*pending* (``job.pending`` is true) and stores them when it starts. Tickwork's scheduler
needs the app's config (its database, zone, executors and job defaults), so until the
extension has one, :class:`Pending` keeps what it was asked. Each job is checked when it is
given, as far as that is possible without the config, so a bad trigger argument fails at
``add_job`` as it does there; what only the config decides (the executor, the job defaults,
``SCHEDULER_ENGINE``'s ``min_interval``) is checked when the jobs are stored, all in one
transaction (:func:`store_jobs`), with errors naming the job.

Jobs given before the scheduler exists are declarations made at every start of every
process, like ``SCHEDULER_JOBS``: they replace stored jobs with the same id rather than
fail on the second start. Two pending jobs with one id are refused (unless the second says
``replace_existing``), as Flask-APScheduler refuses them when it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from tickwork.clock import SystemClock
from tickwork.events import SchedulerEvent
from tickwork.exceptions import ConfigurationError, ConflictError, JobLookupError
from tickwork.job import OPTION_DEFAULTS, Job
from tickwork.jobbuild import JOB_KEYS, JobBuilder, job_spec
from tickwork.scheduler import Scheduler
from tickwork.scheduler import _check_jobstore as check_jobstore
from tickwork.tasks import TaskRegistry
from tickwork.triggers._time import local_timezone

Listener = tuple[Callable[[SchedulerEvent], Any], int]


@dataclass(frozen=True, slots=True)
class PendingJob(Job):
    """A job the extension will store once it has its scheduler (APScheduler's pending job).

    Its trigger is built in the machine's zone, and ``next_run_time`` is its first fire
    time as of now (``None`` when paused); both are computed again, in
    ``SCHEDULER_TIMEZONE``, when the job is stored.
    """

    @property
    def pending(self) -> bool:
        """Always true: the job is not stored yet."""
        return True


class Pending:
    """Tasks, listeners, the auth callback and jobs given before the scheduler exists."""

    def __init__(self) -> None:
        #: Tasks registered so far, so a pending job may name one.
        self.registry = TaskRegistry()
        self._tasks: list[tuple[Callable[..., Any], str | None]] = []
        self._listeners: list[Listener] = []
        self._auth: Callable[..., Any] | None = None
        #: Each job's ``add_job`` arguments and its checked form, by id, in order added.
        self._jobs: dict[str, tuple[dict[str, Any], PendingJob]] = {}

    # -- tasks, listeners, auth --------------------------------------------------------------

    def register(self, func: Callable[..., Any], name: str | None) -> None:
        """Register a task; a name taken by another function is refused now."""
        self.registry.register(func, name)
        self._tasks.append((func, name))

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, callback: Callable[[SchedulerEvent], Any]) -> None:
        self._listeners = [item for item in self._listeners if item[0] != callback]

    def authenticate(self, func: Callable[..., Any]) -> None:
        self._auth = func

    # -- jobs --------------------------------------------------------------------------------

    def add(
        self, specs: Iterable[Mapping[str, Any]], *, replace_existing: bool
    ) -> list[PendingJob]:
        """Check and keep jobs (each spec holds :meth:`Scheduler.add_jobs` arguments);
        either all are kept or, on a bad spec or a taken id, none.

        :raises ConflictError: an id given twice, or already pending without
            ``replace_existing``.
        """
        checked: dict[str, tuple[dict[str, Any], PendingJob]] = {}
        for given in specs:
            spec = dict(given)
            check_jobstore(spec.pop("jobstore", None))
            job = self._check(spec)
            spec["id"] = job.id  # a generated id is kept, so it is the one stored
            if job.id in checked or (job.id in self._jobs and not replace_existing):
                raise ConflictError(job.id)
            checked[job.id] = (spec, job)
        for job_id, entry in checked.items():
            self._jobs.pop(job_id, None)  # a replacement counts as added last
            self._jobs[job_id] = entry
        return [job for _, job in checked.values()]

    def get(self, job_id: str) -> PendingJob | None:
        entry = self._jobs.get(job_id)
        return None if entry is None else entry[1]

    def jobs(self) -> list[PendingJob]:
        """The pending jobs in the order they were added (as APScheduler lists them)."""
        return [job for _, job in self._jobs.values()]

    def remove(self, job_id: str) -> None:
        self._entry(job_id)
        del self._jobs[job_id]

    def remove_all(self) -> None:
        self._jobs.clear()

    def modify(self, job_id: str, changes: Mapping[str, Any]) -> PendingJob:
        """:meth:`Scheduler.modify_job` of a pending job: the same changes are allowed, and
        a ``trigger`` replaces the trigger and its arguments (and resumes a paused job,
        as rescheduling does)."""
        spec, _ = self._entry(job_id)
        self._builder({**spec, **changes}).change(changes)  # refuses what modify_job does
        if "trigger" in changes:
            spec = {key: value for key, value in spec.items() if key in JOB_KEYS}
            spec.pop("next_run_time", None)
        return self._replace(job_id, {**spec, **changes})

    def pause(self, job_id: str) -> PendingJob:
        spec, _ = self._entry(job_id)
        return self._replace(job_id, {**spec, "next_run_time": None})

    def resume(self, job_id: str) -> PendingJob:
        """Resume a paused pending job: its next run time is computed when it is stored."""
        spec, _ = self._entry(job_id)
        spec = dict(spec)
        spec.pop("next_run_time", None)
        return self._replace(job_id, spec)

    def _entry(self, job_id: str) -> tuple[dict[str, Any], PendingJob]:
        entry = self._jobs.get(job_id)
        if entry is None:
            raise JobLookupError(job_id)
        return entry

    def _replace(self, job_id: str, spec: dict[str, Any]) -> PendingJob:
        job = self._check(spec)
        self._jobs[job_id] = (spec, job)
        return job

    def _check(self, spec: Mapping[str, Any]) -> PendingJob:
        """Build the job as far as it can be built without the app's config."""
        job = self._builder(spec).build_all([spec])[0]
        return PendingJob(**{item.name: getattr(job, item.name) for item in fields(job)})

    def _builder(self, spec: Mapping[str, Any]) -> JobBuilder:
        """A builder with what APScheduler's unconfigured scheduler has: the machine's zone
        and the declared job defaults. The executors and ``min_interval`` are the config's,
        so any executor name passes here and the real check happens when storing."""
        executor = spec.get("executor")
        return JobBuilder(
            self.registry,
            timezone=local_timezone(),
            clock=SystemClock(),
            executors={"default", executor} if isinstance(executor, str) else {"default"},
            defaults=OPTION_DEFAULTS,
            min_interval=0.0,
        )

    # -- handing over ------------------------------------------------------------------------

    def hand_over(self, scheduler: Scheduler) -> list[tuple[str, dict[str, Any]]]:
        """Register the tasks, listeners and auth callback with ``scheduler``; return the
        jobs to store, each with the label its errors name. Nothing here changes, so a
        failed hand-over can be tried again."""
        for func, name in self._tasks:
            scheduler.registry.register(func, name)
        for callback, mask in self._listeners:
            scheduler.add_listener(callback, mask)
        if self._auth is not None:
            scheduler.authenticate(self._auth)
        return [(f"job {job_id!r}", spec) for job_id, (spec, _) in self._jobs.items()]


def store_jobs(scheduler: Scheduler, labelled: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Build every job with ``scheduler``'s config, then store them all in one transaction,
    replacing same-id jobs; a bad one raises, naming its label and field, and stores none."""
    jobs: list[Job] = []
    for label, spec in labelled:
        try:
            jobs.extend(scheduler.builder.build_all([spec]))
        except ConfigurationError as exc:
            raise ConfigurationError(f"{label}: {exc}", field=exc.field) from exc
    if jobs:
        scheduler.add_jobs([job_spec(job) for job in jobs], replace_existing=True)
