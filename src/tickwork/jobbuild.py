"""Building jobs from outside input: Python calls, config files, ``SCHEDULER_JOBS``, REST.

Every way a job comes in ends here, so a job added through the Python API, a config file
or the REST API is checked by the same code and refused with the same error naming the
field. Two layers:

* :class:`JobBuilder` turns :meth:`Scheduler.add_job` / :meth:`Scheduler.modify_job`
  arguments into a validated :class:`~tickwork.job.Job` (defaults, trigger, first fire
  time, executor). It reads the clock and the task registry, never the store.
* :func:`new_job_arguments`, :func:`job_changes` and :func:`config_job_specs` check
  JSON-shaped input (REST bodies, config entries) *before* anything is imported:
  required fields, JSON's obvious types, and ``func`` being a registered task or
  allow-listed for untrusted callers.

Which keys are job fields, their defaults and which may change all come from the
declaration of :class:`~tickwork.job.Job`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from tickwork.clock import Clock
from tickwork.exceptions import (
    CallableNotAllowedError,
    CallNotEditableError,
    ConfigurationError,
    InvalidJobError,
    TriggerArgumentError,
)
from tickwork.job import (
    BY_KEY,
    CALL_FIELDS,
    FIELDS,
    MODIFIABLE,
    OPTION_DEFAULTS,
    REQUESTER,
    Job,
    Role,
    check_arguments,
    job_kwargs,
    job_values,
    validate_job,
)
from tickwork.limits import LATEST, check_instant, check_json_shape
from tickwork.run import RunRequest
from tickwork.tasks import TaskRegistry
from tickwork.triggers import AndTrigger, IntervalTrigger, OrTrigger, Trigger, build_trigger
from tickwork.triggers._time import UTC


class _Undefined:
    """Marks an argument the caller did not give, so job defaults apply."""

    def __repr__(self) -> str:
        return "<undefined>"


undefined: Any = _Undefined()

#: Keyword arguments of ``add_job`` that are job fields (the rest are trigger fields).
_JOB_KEYWORDS: Final = frozenset(
    spec.key for spec in FIELDS if spec.role in (Role.OPTION, Role.SCHEDULE)
) - {"trigger"}
#: Keys of a job body or config entry that are not trigger fields.
JOB_KEYS: Final = frozenset(spec.key for spec in FIELDS if spec.role is not Role.STATE) | {
    "jobstore",
    "replace_existing",
}

#: A schedule shared by the jobs of one bulk add that ask for the same trigger.
Schedules = dict[object, tuple[Trigger, datetime | None]]


def check_job_defaults(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``Scheduler(job_defaults=...)`` merged over the declared defaults; unknown keys are
    refused. The values are checked with each job built from them."""
    unknown = sorted(set(defaults) - set(OPTION_DEFAULTS))
    if unknown:
        raise ConfigurationError(
            f"unknown job default(s): {', '.join(unknown)}; known: {sorted(OPTION_DEFAULTS)}",
            field=unknown[0],
        )
    return {**OPTION_DEFAULTS, **defaults}


class JobBuilder:
    """Builds and checks the jobs of one scheduler.

    :param registry: resolves ``func`` to a reference (importing it, for callables).
    :param timezone: zone of triggers and naive datetimes that name none.
    :param clock: where "now" comes from (first fire times, date triggers without a date).
    :param executors: names of the configured executors (a live view).
    :param defaults: option defaults (see :func:`check_job_defaults`).
    :param min_interval: shortest interval an ``interval`` trigger may have, in seconds.
    """

    def __init__(
        self,
        registry: TaskRegistry,
        *,
        timezone: ZoneInfo,
        clock: Clock,
        executors: Collection[str],
        defaults: Mapping[str, Any],
        min_interval: float,
    ) -> None:
        self.registry = registry
        self.timezone = timezone
        self.clock = clock
        self.executors = executors
        self.defaults = dict(defaults)
        self.min_interval = min_interval

    def build(
        self,
        job_id: str | None,
        func: Callable[..., Any] | str,
        *,
        trigger: str | Trigger | None = None,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
        options: Mapping[str, Any] | None = None,
        schedules: Schedules | None = None,
    ) -> Job:
        """A validated job from :meth:`Scheduler.add_job`'s arguments.

        :param options: job options and trigger fields, mixed as ``add_job`` takes them.
        :param schedules: shares triggers (and their first fire time) between jobs of one
            bulk add that ask for the same schedule.
        """
        trigger_args = dict(options or {})
        values = {key: trigger_args.pop(key) for key in list(trigger_args) if key in _JOB_KEYWORDS}
        next_run_time = values.pop("next_run_time", undefined)
        for key, value in self.defaults.items():
            if values.get(key, undefined) is undefined:
                values[key] = value
        func_ref = self.registry.ref_for(func)
        self.check_executor(values.get("executor", BY_KEY["executor"].default))
        schedule_key = (
            trigger if not isinstance(trigger, Trigger) else id(trigger),
            _schedule_key(trigger_args),
        )
        if schedules is not None and schedule_key in schedules:
            built_trigger, first_fire_time = schedules[schedule_key]
        else:
            built_trigger = self.build_trigger(trigger, trigger_args)
            first_fire_time = self.first_fire_time(built_trigger)
            if schedules is not None:
                schedules[schedule_key] = (built_trigger, first_fire_time)
        if next_run_time is not undefined:
            next_run_time = self.aware(next_run_time, "next_run_time")
            built_trigger = continued_from(built_trigger, next_run_time)
        values.update(
            id=job_id if job_id is not None else uuid.uuid4().hex,
            func=func_ref,
            trigger=built_trigger,
            args=tuple(args) if args is not None else (),
            kwargs=dict(kwargs) if kwargs is not None else {},
            name=name if name is not None else _default_name(func, func_ref),
            next_run_time=first_fire_time if next_run_time is undefined else next_run_time,
        )
        return validate_job(Job(**job_kwargs(values)))

    def build_all(self, specs: Iterable[Mapping[str, Any]]) -> list[Job]:
        """The jobs of :meth:`Scheduler.add_jobs` specs (each holds ``add_job``'s
        arguments), sharing equal schedules; the first bad spec raises."""
        jobs = []
        schedules: Schedules = {}
        for index, spec in enumerate(specs):
            options = dict(spec)
            if "func" not in options:
                raise InvalidJobError(f"job spec #{index} has no func", field="func")
            jobs.append(
                self.build(
                    options.pop("id", None),
                    options.pop("func"),
                    trigger=options.pop("trigger", None),
                    args=options.pop("args", None),
                    kwargs=options.pop("kwargs", None),
                    name=options.pop("name", None),
                    options=options,
                    schedules=schedules,
                )
            )
        return jobs

    def change(self, changes: Mapping[str, Any]) -> Callable[[Job], Job]:
        """The edit of :meth:`Scheduler.modify_job` as a function of the stored job.

        Everything that can be checked without the stored job is checked now; a
        ``trigger`` (name plus its fields, or an instance) reschedules the job from now.
        """
        changes = dict(changes)
        trigger = changes.pop("trigger", undefined)
        unknown = sorted(set(changes) - MODIFIABLE)
        if unknown and trigger is undefined:
            raise InvalidJobError(
                f"cannot modify job field(s): {', '.join(unknown)}", field=unknown[0]
            )
        trigger_args = {key: changes.pop(key) for key in unknown}
        if "func" in changes:
            changes["func"] = self.registry.ref_for(changes["func"])
        if "args" in changes:
            changes["args"] = tuple(changes["args"] or ())
        if "kwargs" in changes:
            changes["kwargs"] = dict(changes["kwargs"] or {})
        if "executor" in changes:
            self.check_executor(changes["executor"])
        if "next_run_time" in changes:
            changes["next_run_time"] = self.aware(changes["next_run_time"], "next_run_time")
        if trigger is not undefined:
            new_trigger = self.build_trigger(trigger, trigger_args)
            changes["trigger"] = new_trigger
            first_fire_time = self.first_fire_time(new_trigger)
            changes.setdefault("next_run_time", first_fire_time)
        fields = job_kwargs(changes)
        moment = fields.get("next_run_time")
        if moment is None:
            return lambda job: job.evolve(**fields)
        return lambda job: job.evolve(
            **{**fields, "trigger": continued_from(fields.get("trigger", job.trigger), moment)}
        )

    def build_trigger(self, trigger: str | Trigger | None, trigger_args: dict[str, Any]) -> Trigger:
        """``trigger`` as given, or built from its name and fields (``date`` now, when
        neither is given)."""
        if isinstance(trigger, Trigger):
            if trigger_args:
                raise InvalidJobError(
                    f"trigger arguments {sorted(trigger_args)} cannot be combined with a "
                    "Trigger instance",
                    field=min(trigger_args),
                )
            return trigger
        if trigger is None:
            if not trigger_args:
                trigger_args = {"run_date": self.clock.now()}
            trigger = "date"
        timezone = trigger_args.pop("timezone", None) or self.timezone
        return build_trigger(trigger, timezone=timezone, now=self.clock.now(), **trigger_args)

    def first_fire_time(self, trigger: Trigger) -> datetime:
        """The trigger's first fire time from now, refusing schedules the cluster should not
        take on: one that never fires (it would look paused, and could never be resumed),
        and intervals below ``min_interval`` (each fire writes a run row)."""
        for part in _walk(trigger):
            if (
                isinstance(part, IntervalTrigger)
                and part.interval.total_seconds() < self.min_interval
            ):
                raise TriggerArgumentError(
                    "seconds",
                    part.interval.total_seconds(),
                    f"the interval must be at least {self.min_interval} s "
                    "(EngineSettings.min_interval)",
                )
        first = trigger.next_fire_time(None, self.clock.now())
        if first is None:
            raise TriggerArgumentError(
                "trigger",
                str(trigger),
                "never fires from now on (an end_date in the past, a date that does not "
                "exist such as Feb 31, or combined triggers that never agree)",
            )
        if first > LATEST:
            raise TriggerArgumentError(
                "trigger", str(trigger), f"first fires after {LATEST.date()}, out of range"
            )
        return first

    def check_executor(self, executor: object) -> None:
        if not isinstance(executor, str) or executor not in self.executors:
            raise InvalidJobError(
                f"executor {executor!r} is not configured; known: {sorted(self.executors)}",
                field="executor",
            )

    def aware(self, value: Any, field: str) -> datetime | None:
        """``value`` (a datetime or ISO 8601 text) as an aware datetime in range; a naive
        one is taken in the scheduler's zone."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise InvalidJobError(
                    f"{field} {value!r} is not an ISO 8601 datetime", field=field
                ) from None
        if not isinstance(value, datetime):
            raise InvalidJobError(f"{field} must be a datetime, got {value!r}", field=field)
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.timezone)
        try:
            value.astimezone(UTC)
        except OverflowError:  # a zone offset pushed it past year 1 or 9999
            return check_instant(field, None, value.isoformat())
        return check_instant(field, value, value.isoformat())


def run_request(
    args: Iterable[Any] | None, kwargs: Mapping[str, Any] | None, requested_by: str | None
) -> RunRequest | None:
    """The checked request of :meth:`Scheduler.run_job` (None: a plain run-now).

    ``args`` and ``kwargs`` are checked as a job's are (:func:`~tickwork.job.check_arguments`);
    each left None means the job's own.

    :raises InvalidJobError: naming ``args``, ``kwargs`` or ``requested_by``.
    """
    if args is None and kwargs is None and requested_by is None:
        return None
    if args is not None and (
        isinstance(args, str | bytes | Mapping) or not isinstance(args, Iterable)
    ):
        raise InvalidJobError(f"args must be a list or tuple, got {args!r}", field="args")
    given_args = None if args is None else tuple(args)
    given_kwargs = dict(kwargs) if isinstance(kwargs, Mapping) else kwargs
    check_arguments(given_args or (), {} if given_kwargs is None else given_kwargs)
    REQUESTER.check("requested_by", requested_by)
    return RunRequest(given_args, given_kwargs, requested_by)


def job_spec(job: Job) -> dict[str, Any]:
    """:meth:`Scheduler.add_jobs` arguments that rebuild ``job`` exactly (engine state
    left out)."""
    values = job_values(job)
    return {spec.key: values[spec.key] for spec in FIELDS if spec.role is not Role.STATE}


def _walk(trigger: Trigger) -> Iterator[Trigger]:
    """``trigger`` and, for a combination, every trigger inside it."""
    yield trigger
    if isinstance(trigger, AndTrigger | OrTrigger):
        for child in trigger.triggers:
            yield from _walk(child)


def _schedule_key(trigger_args: dict[str, Any]) -> object:
    """A hashable key for trigger arguments (their repr when a value is unhashable)."""
    key = tuple(sorted(trigger_args.items()))
    try:
        hash(key)
    except TypeError:
        return repr(key)
    return key


def continued_from(trigger: Trigger, next_run_time: datetime | None) -> Trigger:
    """``trigger`` with an interval's grid moved through an explicit next run time (see
    :meth:`IntervalTrigger.continued_from`); other triggers compute from their own fields."""
    if next_run_time is not None and isinstance(trigger, IntervalTrigger):
        return trigger.continued_from(next_run_time)
    return trigger


def _default_name(func: Callable[..., Any] | str, func_ref: str) -> str:
    if isinstance(func, str):
        return func_ref.rpartition(":")[2] or func_ref
    return getattr(func, "__qualname__", func_ref)


# -- JSON-shaped input: REST bodies and config entries ---------------------------------------


def flatten_trigger(data: Mapping[str, Any]) -> dict[str, Any]:
    """Accept the nested form ``"trigger": {"type": "cron", "hour": 9}`` as well as the flat one.

    Flask-APScheduler keeps this older nested form working, so configs and clients using it
    move over unchanged.
    """
    spec = dict(data)
    trigger = spec.get("trigger")
    if isinstance(trigger, Mapping):
        nested = dict(trigger)
        kind = nested.pop("type", "date")
        clashes = sorted(set(nested) & set(spec))
        if clashes:
            raise InvalidJobError(
                f"{clashes[0]} is given both in trigger and beside it", field=clashes[0]
            )
        spec.update(nested)
        spec["trigger"] = kind
    return spec


def new_job_arguments(body: Mapping[str, Any], registry: TaskRegistry | None) -> dict[str, Any]:
    """Keyword arguments for :meth:`Scheduler.add_job` from a POSTed (or configured) job.

    :param registry: the allow-list to enforce, or ``None`` for trusted input (config).
    """
    _check_shape(body)
    spec = flatten_trigger(body)
    job_id = spec.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise InvalidJobError("id is required and must be a non-empty string", field="id")
    _check_func(spec, registry, required=True)
    _check_arguments(spec)
    if spec.get("name") is None:
        spec["name"] = job_id  # Flask-APScheduler names a job after its id
    _check_type(spec, "name", str, "a string")
    _check_type(spec, "replace_existing", bool, "a boolean")
    _check_trigger_name(spec)
    return spec


def config_job_specs(jobs: Iterable[Mapping[str, Any]], label: str) -> list[dict[str, Any]]:
    """:meth:`Scheduler.add_jobs` specs from configured jobs (trusted: any callable).

    Used for ``SCHEDULER_JOBS`` and the service config's ``[[jobs]]``; errors name the
    job as ``label[index]``.
    """
    specs = []
    for index, job in enumerate(jobs):
        spec = dict(job)
        if isinstance(spec.get("args"), tuple):
            spec["args"] = list(spec["args"])
        try:
            spec = new_job_arguments(spec, None)
        except InvalidJobError as exc:
            raise ConfigurationError(f"{label}[{index}]: {exc}", field=exc.field) from None
        spec.pop("replace_existing", None)
        if spec.pop("jobstore", None) not in (None, "default"):
            raise ConfigurationError(
                f"{label}[{index}]: only one jobstore exists", field="jobstore"
            )
        specs.append(spec)
    return specs


def job_changes(
    body: Mapping[str, Any], job_id: str, current: Callable[[], Job], registry: TaskRegistry
) -> dict[str, Any]:
    """Keyword arguments for :meth:`Scheduler.modify_job` from a PATCH body.

    With ``trigger`` the job gets that new trigger, as in Flask-APScheduler. Trigger fields
    without ``trigger`` change the current trigger: they are merged into its fields
    (``{"minutes": 5}`` on an interval job keeps its other units and its start date).

    What the job calls (``func``, ``args``, ``kwargs``) may only change when its current
    func is one the client could have scheduled itself (:meth:`TaskRegistry.is_allowed`):
    a job added by trusted code with, say, ``os:system`` and fixed arguments keeps them.

    :param current: loads the stored job; called only when its func or trigger is needed.
    """
    _check_shape(body)
    changes = flatten_trigger(body)
    given_id = changes.pop("id", job_id)
    if given_id != job_id:
        raise InvalidJobError("id cannot be changed", field="id")
    if "replace_existing" in changes:
        raise InvalidJobError(
            "replace_existing only applies when adding a job", field="replace_existing"
        )
    stored: list[Job] = []

    def load() -> Job:
        if not stored:
            stored.append(current())
        return stored[0]

    _check_call_editable(changes, load, registry)
    _check_func(changes, registry, required=False)
    _check_arguments(changes)
    _check_type(changes, "name", str, "a string")
    _check_trigger_name(changes)
    trigger_fields = {key for key in changes if key not in JOB_KEYS}
    if trigger_fields and "trigger" not in changes:
        merged = load().trigger.to_dict()
        changes["trigger"] = merged.pop("type")
        changes = {**merged, **changes}
    return changes


def run_arguments(
    body: Mapping[str, Any], current: Callable[[], Job], registry: TaskRegistry
) -> dict[str, Any]:
    """Keyword arguments for :meth:`Scheduler.run_job` from a run-now's POST body,
    ``{"args": [...], "kwargs": {...}}`` (either, both or none; null: the job's own).

    Arguments of the run's own are what it calls, so they are refused, as an edit of the
    job's would be, unless its func is one the client could have scheduled itself: a job
    added by trusted code with fixed arguments may only be run as it is. The values are
    checked by :meth:`Scheduler.run_job`, as the Python API's are.

    :param current: loads the stored job; called only when arguments are given.
    """
    _check_shape(body)
    _check_known(body, ("args", "kwargs"))
    given = {key: value for key, value in body.items() if value is not None}
    _check_arguments(given)
    _check_call_editable(given, current, registry)
    return given


def pause_arguments(body: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :meth:`Scheduler.pause_job` from a pause's POST body,
    ``{"note": "..."}`` or none; the note is checked by :meth:`Scheduler.pause_job`."""
    _check_shape(body)
    _check_known(body, ("note",))
    return dict(body)


def _check_known(body: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise InvalidJobError(
            f"unexpected field(s): {', '.join(unknown)}; expected some of: {', '.join(known)}",
            field=unknown[0],
        )


def _check_shape(body: Mapping[str, Any]) -> None:
    """Refuse text no backend can store (NUL, lone surrogates) and values nested deeper than
    :data:`~tickwork.limits.MAX_JSON_DEPTH` anywhere in the body, before anything walks it
    recursively; the error names the top-level key."""
    for key, value in body.items():
        check_json_shape(key, key)
        check_json_shape(key, value)


def _check_func(spec: dict[str, Any], registry: TaskRegistry | None, *, required: bool) -> None:
    if "func" not in spec and not required:
        return
    func = spec.get("func")
    if registry is None and callable(func):
        return  # trusted config may name the callable itself
    if not isinstance(func, str) or not func:
        raise InvalidJobError(
            "func is required and must be a 'module:qualname' or task name", field="func"
        )
    if registry is not None:
        try:
            registry.check_allowed(func)
        except CallableNotAllowedError:
            raise
        except InvalidJobError as exc:  # allowed, but there is nothing of that name
            raise InvalidJobError(str(exc), field="func") from None


def _check_call_editable(
    changes: Mapping[str, Any], current: Callable[[], Job], registry: TaskRegistry
) -> None:
    """Refuse changing what a job calls unless its current func is REST-schedulable."""
    field = next((key for key in CALL_FIELDS if key in changes), None)
    if field is None:
        return
    func_ref = current().func_ref
    if not registry.is_allowed(func_ref):
        raise CallNotEditableError(
            f"{field} of job {current().id} cannot be changed over the API: its func "
            f"{func_ref!r} is not a registered task nor allowed; it may only be paused, "
            "resumed, run as it is or removed",
            field=field,
        )


def _check_arguments(spec: dict[str, Any]) -> None:
    if spec.get("args") is not None and not isinstance(spec["args"], list):
        raise InvalidJobError("args must be a JSON array", field="args")
    if spec.get("kwargs") is not None and not isinstance(spec["kwargs"], dict):
        raise InvalidJobError("kwargs must be a JSON object", field="kwargs")


def _check_trigger_name(spec: dict[str, Any]) -> None:
    _check_type(spec, "trigger", str, "a trigger name or a trigger object with a type")


def _check_type(spec: dict[str, Any], key: str, expected: type, description: str) -> None:
    if key in spec and spec[key] is not None and not isinstance(spec[key], expected):
        raise InvalidJobError(f"{key} must be {description}, got {spec[key]!r}", field=key)
