"""``tickwork.flask.APScheduler``: Flask-APScheduler's extension on tickwork's scheduler.

Migrating is changing the import. The differences are the point of switching: jobs live
in a database (several gunicorn workers, or the reloader's two processes, form a cluster
and never fire a job twice), every run is recorded, and the REST API only schedules
registered tasks or allow-listed callables.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

import werkzeug.serving
from flask import Flask
from flask.helpers import get_debug_flag

from tickwork.api import ApiAuth, ApiContext, install_api
from tickwork.dashboard import install_dashboard
from tickwork.events import EVENT_ALL, SchedulerEvent
from tickwork.exceptions import ConfigurationError
from tickwork.flask.config import ATTRIBUTE_KEYS, FlaskSettings, read_settings
from tickwork.flask.pending import Pending, store_jobs
from tickwork.job import Job
from tickwork.jobbuild import config_job_specs, flatten_trigger
from tickwork.node import Node, SchedulerState
from tickwork.run import Run
from tickwork.scheduler import STATE_STOPPED, Scheduler
from tickwork.scheduler import _check_jobstore as check_jobstore
from tickwork.triggers import Trigger

logger = logging.getLogger("tickwork.flask")

F = TypeVar("F", bound=Callable[..., Any])


class _SetBeforeInitApp:
    """An extension attribute an app may set before ``init_app`` (Flask-APScheduler's
    ``scheduler.auth = HTTPBasicAuth()``), where it is the default of its config key.

    Set after ``init_app``, the API is installed already and the value could not take
    effect; for ``auth`` that would leave the API open while it looks protected, so it is
    an error instead of a silent no-op.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, extension: APScheduler | None, owner: type | None = None) -> Any:
        if extension is None:
            return self
        return extension._attributes[self.name]

    def __set__(self, extension: APScheduler, value: Any) -> None:
        if extension.app is not None:
            raise ConfigurationError(
                f"set {self.name} before init_app(app), or use the config key "
                f"{ATTRIBUTE_KEYS[self.name]}: after init_app it cannot take effect",
                field=self.name,
            )
        extension._attributes[self.name] = value


class APScheduler:
    """A tickwork scheduler integrated with a Flask app, configured from ``app.config``.

    :param scheduler: a ready :class:`~tickwork.Scheduler`; by default one is built at
        :meth:`init_app` from the app's config, running jobs inside the app context.
    :param app: the app, or call :meth:`init_app` later.

    Until the extension has its scheduler (:meth:`init_app`, or :meth:`start` without an
    app), it keeps what it is asked as Flask-APScheduler's unstarted scheduler does:
    ``@task``, ``@authenticate``, listeners, and jobs, which are *pending*
    (:class:`~tickwork.flask.pending.PendingJob`) and may be listed, changed, paused and
    removed; they are stored when the scheduler is built (see :mod:`tickwork.flask.pending`).
    Methods that need the database (``run_job``, ``pause``, ``get_runs``, ...) raise
    :class:`ConfigurationError` until then. The attributes ``auth``, ``api_enabled``,
    ``api_prefix``, ``endpoint_prefix`` and ``allowed_hosts`` may be set before ``init_app``
    too, each the default of its ``SCHEDULER_*`` key.
    """

    auth = _SetBeforeInitApp()
    api_enabled = _SetBeforeInitApp()
    api_prefix = _SetBeforeInitApp()
    endpoint_prefix = _SetBeforeInitApp()
    allowed_hosts = _SetBeforeInitApp()

    def __init__(self, scheduler: Scheduler | None = None, app: Flask | None = None) -> None:
        self._scheduler = scheduler
        self._host_name = socket.gethostname().lower()
        #: What was asked before the scheduler existed; None once it does.
        self._pending: Pending | None = Pending() if scheduler is None else None
        #: Whether :meth:`start` built the scheduler from the defaults, without an app.
        self._without_app = False
        self.app: Flask | None = None
        defaults = FlaskSettings()
        self._attributes: dict[str, Any] = {
            name: getattr(defaults, name) for name in ATTRIBUTE_KEYS
        }
        self._attributes["allowed_hosts"] = list(defaults.allowed_hosts)
        if app is not None:
            self.init_app(app)

    # -- Flask-APScheduler's attributes ------------------------------------------------------

    @property
    def host_name(self) -> str:
        return self._host_name

    @property
    def scheduler(self) -> Scheduler:
        """The tickwork :class:`~tickwork.Scheduler` (after :meth:`init_app`)."""
        return self._needs_scheduler("scheduler")

    def _needs_scheduler(self, what: str) -> Scheduler:
        if self._scheduler is None:
            raise ConfigurationError(
                f"{what}: the extension has no scheduler yet; call init_app(app) first (or "
                "start(), which builds it from the default settings, without an app)"
            )
        return self._scheduler

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def state(self) -> int:
        return STATE_STOPPED if self._scheduler is None else self._scheduler.state

    # -- setup -------------------------------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Read the config, build the scheduler, store pending and configured jobs (in one
        transaction), install the API."""
        if self._without_app:
            raise ConfigurationError(
                "start() built this extension's scheduler from the default settings, without "
                "an app; call init_app(app) before start() so the app's config applies"
            )
        settings = read_settings(app.config, self._attributes)
        jobs = config_job_specs(settings.jobs, "SCHEDULER_JOBS")
        if self._scheduler is None:
            self._adopt(self._build_scheduler(settings, app), jobs)
        else:
            if settings.allowed_callables:
                registry = self._scheduler.registry
                registry.allowed_patterns = registry.allowed_patterns + settings.allowed_callables
            self._adopt(self._scheduler, jobs)
        self._attributes = {name: getattr(settings, name) for name in ATTRIBUTE_KEYS}
        self._attributes["allowed_hosts"] = list(settings.allowed_hosts)
        self.app = app
        app.apscheduler = self  # type: ignore[attr-defined]  # Flask-APScheduler's handle
        app.extensions["tickwork"] = self
        # One policy for the API and metrics, so both count a client's failures together.
        auth = ApiAuth.build(
            settings.auth, lambda: self.scheduler.auth_callback, settings.api_tokens
        )
        if self.api_enabled:
            self._load_api(app, settings, auth)
        if settings.metrics_enabled:
            self._load_metrics(app, settings, auth)

    def _build_scheduler(self, settings: FlaskSettings, app: Flask | None) -> Scheduler:
        """A scheduler from the settings; its jobs run inside ``app``'s context, if any."""

        return Scheduler(
            settings.database_url,
            timezone=settings.timezone,
            executors=settings.executors,
            job_defaults=settings.job_defaults,
            allowed_callables=settings.allowed_callables,
            settings=settings.engine,
            call_wrapper=None if app is None else _in_context_of(app),
        )

    def _adopt(self, scheduler: Scheduler, config_jobs: list[dict[str, Any]]) -> None:
        """Make ``scheduler`` this extension's, handing it what was pending; store the pending
        jobs and ``SCHEDULER_JOBS`` in one transaction, replacing same-id jobs.

        Config is code: on every start it states what the jobs are, so a stored job with the
        same id is replaced (as ``@task`` does) instead of failing with a conflict. If
        anything is refused, nothing is stored, a scheduler built for this is closed, and
        the extension keeps its pending jobs as they were.
        """
        labelled = [] if self._pending is None else self._pending.hand_over(scheduler)
        labelled += [(f"SCHEDULER_JOBS[{index}]", spec) for index, spec in enumerate(config_jobs)]
        try:
            store_jobs(scheduler, labelled)
        except BaseException:
            if scheduler is not self._scheduler:
                scheduler.close()
            raise
        self._scheduler = scheduler
        self._pending = None

    def _load_api(self, app: Flask, settings: FlaskSettings, auth: ApiAuth) -> None:
        if not auth.enabled:
            logger.warning(
                "the tickwork REST API at %s has no authentication: anyone who can reach this "
                "app can pause the scheduler and run jobs. Set SCHEDULER_AUTH or "
                "SCHEDULER_API_TOKENS unless the app only listens on loopback",
                settings.api_prefix,
            )
        context = ApiContext(
            self.scheduler,
            auth=auth,
            allowed_hosts=settings.allowed_hosts,
            allowed_origins=settings.allowed_origins,
            host_name=self._host_name,
            start=self.start,
        )
        install_api(app, context, prefix=self.api_prefix, endpoint_prefix=self.endpoint_prefix)
        if settings.dashboard_enabled:
            install_dashboard(app, self.api_prefix, endpoint_prefix=self.endpoint_prefix)

    def _load_metrics(self, app: Flask, settings: FlaskSettings, auth: ApiAuth) -> None:
        """``SCHEDULER_METRICS_ENABLED``: Prometheus metrics, behind the API's auth if any."""
        from tickwork.metrics import SchedulerMetrics, install_metrics

        install_metrics(
            app,
            SchedulerMetrics(self.scheduler),
            path=settings.metrics_path,
            allows=auth.allows if auth.enabled else None,
            challenge=auth.challenge(),
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, paused: bool = False) -> None:
        """Start this node, unless this host is not allowed or this is the reloader's parent.

        Flask's debug reloader runs the app in a child process; the parent only watches files,
        so it does not join the cluster (Flask-APScheduler skips it too). Without
        :meth:`init_app`, the scheduler is built from the default settings (the database
        ``sqlite:///tickwork.sqlite``) and its jobs run outside any app context.
        """
        if get_debug_flag() and not werkzeug.serving.is_running_from_reloader():
            return
        if "*" not in self.allowed_hosts and self._host_name not in self.allowed_hosts:
            logger.debug(
                "host %s is not in SCHEDULER_ALLOWED_HOSTS %s; not starting",
                self._host_name,
                self.allowed_hosts,
            )
            return
        if self._scheduler is None:
            self._adopt(self._build_scheduler(read_settings({}, self._attributes), None), [])
            self._without_app = True
        self.scheduler.start(paused=paused)

    def shutdown(self, wait: bool = True) -> None:
        self._needs_scheduler("shutdown").shutdown(wait=wait)

    def pause(self) -> SchedulerState:
        """Pause the whole cluster (see :meth:`Scheduler.pause`)."""
        return self._needs_scheduler("pause").pause()

    def resume(self) -> SchedulerState:
        return self._needs_scheduler("resume").resume()

    def wakeup(self) -> None:
        self._needs_scheduler("wakeup").wakeup()

    # -- listeners, auth, tasks --------------------------------------------------------------

    def add_listener(
        self, callback: Callable[[SchedulerEvent], Any], mask: int = EVENT_ALL
    ) -> None:
        if self._pending is not None:
            self._pending.add_listener((callback, mask))
        else:
            self.scheduler.add_listener(callback, mask)

    def remove_listener(self, callback: Callable[[SchedulerEvent], Any]) -> None:
        if self._pending is not None:
            self._pending.remove_listener(callback)
        else:
            self.scheduler.remove_listener(callback)

    def authenticate(self, func: F) -> F:
        """Register the function that checks REST credentials (``SCHEDULER_AUTH``)."""
        if self._pending is not None:
            self._pending.authenticate(func)
        else:
            self.scheduler.authenticate(func)
        return func

    @overload
    def task(self, func_or_trigger: F, /, **options: Any) -> F: ...

    @overload
    def task(
        self, func_or_trigger: str | Trigger | None = None, /, **options: Any
    ) -> Callable[[F], F]: ...

    def task(
        self, func_or_trigger: Callable[..., Any] | str | Trigger | None = None, /, **options: Any
    ) -> Any:
        """``@scheduler.task`` / ``@scheduler.task("interval", id="j", seconds=30)``.

        See :meth:`Scheduler.task`. Before the scheduler exists the function is registered
        and its job is pending; a bad trigger argument is refused here, as there.
        """
        if self._pending is None:
            return self.scheduler.task(func_or_trigger, **options)
        pending = self._pending
        name = options.pop("name", None)
        job_id = options.pop("id", None)
        if callable(func_or_trigger) and not isinstance(func_or_trigger, Trigger):
            pending.register(func_or_trigger, name)
            return func_or_trigger
        trigger = func_or_trigger
        if trigger is None and (options or job_id):
            raise ConfigurationError(
                f"task options {sorted(options)} need a trigger to schedule the task"
            )

        def decorate(func: F) -> F:
            pending.register(func, name)
            if trigger is not None:
                spec = {"id": job_id or pending.registry.ref_for(func), "func": func}
                pending.add([{**spec, "trigger": trigger, **options}], replace_existing=True)
            return func

        return decorate

    # -- jobs --------------------------------------------------------------------------------

    def add_job(self, id: str | None, func: Callable[..., Any] | str, **kwargs: Any) -> Job:
        """Add a job; as in Flask-APScheduler, ``name`` defaults to the id and ``trigger``
        may be a dict with a ``type``. Before the scheduler exists the job is pending."""
        spec = flatten_trigger(kwargs)
        spec["name"] = spec.get("name") or id
        if self._pending is None:
            return self.scheduler.add_job(func=func, id=id, **spec)
        replace = spec.pop("replace_existing", False)
        return self._pending.add([{**spec, "id": id, "func": func}], replace_existing=replace)[0]

    def add_jobs(
        self, specs: Iterable[Mapping[str, Any]], *, replace_existing: bool = False
    ) -> list[Job]:
        """See :meth:`Scheduler.add_jobs`: all or none (also while pending)."""
        if self._pending is None:
            return self.scheduler.add_jobs(specs, replace_existing=replace_existing)
        return list(self._pending.add(specs, replace_existing=replace_existing))

    def remove_job(self, id: str, jobstore: str | None = None) -> None:
        if self._pending is None:
            self.scheduler.remove_job(id, jobstore)
        else:
            check_jobstore(jobstore)
            self._pending.remove(id)

    def remove_all_jobs(self, jobstore: str | None = None) -> None:
        if self._pending is None:
            self.scheduler.remove_all_jobs(jobstore)
        else:
            check_jobstore(jobstore)
            self._pending.remove_all()

    def get_job(self, id: str, jobstore: str | None = None) -> Job | None:
        if self._pending is None:
            return self.scheduler.get_job(id, jobstore)
        check_jobstore(jobstore)
        return self._pending.get(id)

    def get_jobs(self, jobstore: str | None = None) -> list[Job]:
        if self._pending is None:
            return self.scheduler.get_jobs(jobstore)
        check_jobstore(jobstore)
        return list(self._pending.jobs())

    def iter_jobs(self, page_size: int = 1000) -> Iterator[Job]:
        if self._pending is None:
            return self.scheduler.iter_jobs(page_size)
        return iter(self._pending.jobs())

    def count_jobs(self) -> int:
        if self._pending is None:
            return self.scheduler.count_jobs()
        return len(self._pending.jobs())

    def modify_job(self, id: str, jobstore: str | None = None, **changes: Any) -> Job:
        """Change a job; a ``trigger`` (name or dict) with its fields reschedules it."""
        if self._pending is None:
            return self.scheduler.modify_job(id, jobstore, **flatten_trigger(changes))
        check_jobstore(jobstore)
        return self._pending.modify(id, flatten_trigger(changes))

    def reschedule_job(
        self,
        id: str,
        jobstore: str | None = None,
        trigger: str | Trigger | None = None,
        **args: Any,
    ) -> Job:
        if self._pending is None:
            return self.scheduler.reschedule_job(id, jobstore, trigger, **args)
        return self.modify_job(id, jobstore, trigger=trigger, **args)

    def pause_job(
        self,
        id: str,
        jobstore: str | None = None,
        *,
        note: str | None = None,
        requested_by: str | None = None,
    ) -> Job:
        """Pause a job (see :meth:`Scheduler.pause_job`); a note and who paused are kept
        with the stored job, so pausing with them needs the scheduler (after
        :meth:`init_app`)."""
        if self._pending is None or note is not None or requested_by is not None:
            return self._needs_scheduler("pause_job with a note").pause_job(
                id, jobstore, note=note, requested_by=requested_by
            )
        check_jobstore(jobstore)
        return self._pending.pause(id)

    def resume_job(self, id: str, jobstore: str | None = None) -> Job:
        if self._pending is None:
            return self.scheduler.resume_job(id, jobstore)
        check_jobstore(jobstore)
        return self._pending.resume(id)

    def run_job(
        self,
        id: str,
        jobstore: str | None = None,
        *,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        requested_by: str | None = None,
    ) -> Job:
        """Run now, outside the schedule, with the job's arguments or ``args``/``kwargs``
        of this run's own (see :meth:`Scheduler.run_job`); recorded in history, so it
        needs the scheduler (Flask-APScheduler also runs a pending job, unrecorded)."""
        return self._needs_scheduler("run_job").run_job(
            id, jobstore, args=args, kwargs=kwargs, requested_by=requested_by
        )

    # -- cluster and history -----------------------------------------------------------------

    def get_scheduler_state(self) -> SchedulerState:
        return self._needs_scheduler("get_scheduler_state").get_scheduler_state()

    def get_nodes(self, include_stopped: bool = False) -> list[Node]:
        return self._needs_scheduler("get_nodes").get_nodes(include_stopped)

    def get_node(self, node_id: str | None = None) -> Node:
        return self._needs_scheduler("get_node").get_node(node_id)

    def pause_node(self, node_id: str | None = None) -> Node:
        return self._needs_scheduler("pause_node").pause_node(node_id)

    def resume_node(self, node_id: str | None = None) -> Node:
        return self._needs_scheduler("resume_node").resume_node(node_id)

    def get_runs(self, job_id: str | None = None, **filters: Any) -> list[Run]:
        """Run history, newest first (see :meth:`Scheduler.get_runs`)."""
        return self._needs_scheduler("get_runs").get_runs(job_id, **filters)


def _in_context_of(app: Flask) -> Callable[[Callable[[], Any]], Any]:
    """A scheduler's ``call_wrapper`` that runs each job inside ``app``'s app context."""

    def in_app_context(call: Callable[[], Any]) -> Any:
        with app.app_context():
            return call()

    return in_app_context
