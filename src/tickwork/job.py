"""The job: what to call, with what, and when; a frozen value that maps 1:1 to a store row.

:class:`Job` is the one declaration of a job's fields. Each field's metadata
(:class:`FieldSpec`) says what part it plays, its name outside Python (the store column,
the REST JSON and config key) and, for options, the kind of value it holds. Everything
else is derived from it: the option lists and defaults of :mod:`tickwork.scheduler`, the
keys the REST API and config accept (:mod:`tickwork.jobbuild`), the store's row converters,
the REST JSON, the OpenAPI schema of options and the CLI's job view. Adding an option is
adding a field here (plus its column, migration and behaviour).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import datetime
from enum import Enum
from typing import Any, Final, Protocol

from tickwork.exceptions import InvalidJobError, JobNotBoundError, TickworkError
from tickwork.jobvalues import Boolean, Integer, Line, Moment, Seconds, Text, Value
from tickwork.limits import (
    MAX_ARGUMENTS_BYTES,
    MAX_DURATION,
    MAX_INT32,
    MAX_PAUSE_NOTE_CHARS,
    MAX_REQUESTER_CHARS,
    check_job_id,
    check_json_shape,
)
from tickwork.triggers import Trigger
from tickwork.triggers._time import datetime_repr


class Role(Enum):
    """What part a field plays, which decides who may set it and when."""

    #: The job's id: given (or generated) once, never changed.
    IDENTITY = "identity"
    #: What the job calls; over the REST API changeable only on jobs it could have added.
    CALL = "call"
    #: When it runs: the trigger and the next run time (``None`` while paused).
    SCHEDULE = "schedule"
    #: How it runs; set when adding, changeable, each with a kind of value.
    OPTION = "option"
    #: Written by tickwork itself (why the engine stopped scheduling the job; why, by whom
    #: and when it was paused); read-only outside. A ``value``, when declared, is what the
    #: API that writes it accepts (see :data:`PAUSE_NOTE`).
    STATE = "state"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """The metadata of one :class:`Job` field.

    :param role: see :class:`Role`.
    :param key: its name in the store row, REST JSON and config, when not the attribute's.
    :param value: the kind of value of an option (checked by :func:`validate_job`,
        described in the OpenAPI document), or of a state field (described only).
    :param defaulted: whether ``Scheduler(job_defaults=...)`` may set its default.
    :param label: how the CLI shows it, when not the key with spaces.
    """

    role: Role
    key: str = ""
    value: Value | None = None
    defaulted: bool = False
    label: str = ""


_SPEC: Final = "tickwork"


def _meta(role: Role, **spec: Any) -> dict[str, FieldSpec]:
    """A field's metadata: its :class:`FieldSpec`."""
    return {_SPEC: FieldSpec(role, **spec)}


#: What a pause note may be (:attr:`Job.paused_note`).
PAUSE_NOTE: Final = Line(MAX_PAUSE_NOTE_CHARS)
#: What the name of who asked for a pause or a run-now may be (:attr:`Job.paused_by`,
#: :attr:`tickwork.run.Run.requested_by`).
REQUESTER: Final = Line(MAX_REQUESTER_CHARS)


def _option(value: Value, *, defaulted: bool = True, label: str = "") -> dict[str, FieldSpec]:
    return _meta(Role.OPTION, value=value, defaulted=defaulted, label=label)


class Resolver(Protocol):
    """Turns a stored reference into its callable (:class:`tickwork.tasks.TaskRegistry`)."""

    def resolve(self, ref: str) -> Callable[..., Any]: ...


class JobOwner(Protocol):
    """What a bound :class:`Job`'s methods call: the scheduler it came from."""

    @property
    def registry(self) -> Resolver: ...

    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job: ...

    def reschedule_job(
        self, job_id: str, jobstore: str | None = None, trigger: Any = None, **trigger_args: Any
    ) -> Job: ...

    def pause_job(
        self, job_id: str, jobstore: str | None = None, *, note: str | None = None
    ) -> Job: ...

    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job: ...

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None: ...


class _Bindable:
    """Holds the one slot that is not a field: the scheduler a job was returned by.

    Being no dataclass field, it stays out of ``fields(Job)`` and so out of
    :data:`FIELDS`, the store row, the JSON, ``==`` and ``dataclasses.replace`` (whose
    copies are unbound); being a slot, binding costs one attribute write per job.
    """

    __slots__ = ("_owner",)


@dataclass(frozen=True, slots=True)
class Job(_Bindable):
    """A scheduled job.

    ``next_run_time`` is ``None`` while the job is paused, as in APScheduler.
    ``func_ref`` is a ``"package.module:qualname"`` reference or the name of a registered
    task; the callable itself is never stored.

    Construction does not validate, so loading thousands of stored rows stays cheap;
    everything that builds a job from outside input goes through :func:`validate_job`
    (:mod:`tickwork.jobbuild`, :meth:`evolve`).

    A job is a snapshot: its fields never change. The methods APScheduler's ``Job`` has
    (:meth:`modify`, :meth:`reschedule`, :meth:`pause`, :meth:`resume`, :meth:`remove`,
    :attr:`func`) work on jobs the scheduler returned (they are *bound* to it) and return
    the job as stored after the change, where APScheduler returns ``self``.
    """

    id: str = field(metadata=_meta(Role.IDENTITY))
    func_ref: str = field(metadata=_meta(Role.CALL, key="func"))
    trigger: Trigger = field(metadata=_meta(Role.SCHEDULE))
    args: tuple[Any, ...] = field(default=(), metadata=_meta(Role.CALL))
    kwargs: dict[str, Any] = field(default_factory=dict, metadata=_meta(Role.CALL))
    name: str = field(default="", metadata=_option(Text(), defaulted=False))
    executor: str = field(
        default="default", metadata=_option(Text(required="a non-empty string"), defaulted=False)
    )
    misfire_grace_time: float | None = field(
        default=1.0, metadata=_option(Seconds(MAX_DURATION.total_seconds()), label="misfire grace")
    )
    coalesce: bool = field(default=True, metadata=_option(Boolean()))
    max_instances: int = field(default=1, metadata=_option(Integer(1, MAX_INT32)))
    rerun_lost: bool = field(default=False, metadata=_option(Boolean()))
    #: Seconds a run may take from the start of its call; a run still going then ends
    #: ``timed_out`` (see docs/executors.md for what each executor does). None: no limit.
    timeout: float | None = field(
        default=None, metadata=_option(Seconds(MAX_DURATION.total_seconds()))
    )
    next_run_time: datetime | None = field(default=None, metadata=_meta(Role.SCHEDULE))
    #: Why the engine stopped scheduling this job (its row could not be decoded, or its
    #: trigger failed); set by a claim, cleared by any edit. A broken job is not due.
    broken_reason: str | None = field(default=None, metadata=_meta(Role.STATE))
    broken_at: datetime | None = field(default=None, metadata=_meta(Role.STATE))
    #: Why, by whom and when :meth:`Scheduler.pause_job <tickwork.Scheduler.pause_job>`
    #: paused the job (each None when not given or unknown); kept by other edits while the
    #: job stays paused, cleared as soon as it is scheduled again (see :meth:`evolve`).
    paused_note: str | None = field(default=None, metadata=_meta(Role.STATE, value=PAUSE_NOTE))
    paused_by: str | None = field(default=None, metadata=_meta(Role.STATE, value=REQUESTER))
    paused_at: datetime | None = field(default=None, metadata=_meta(Role.STATE, value=Moment()))

    @property
    def pending(self) -> bool:
        """APScheduler compatibility: a stored job is never pending."""
        return False

    @property
    def func(self) -> Callable[..., Any]:
        """The callable, resolved through the scheduler's tasks: a registered task's name
        or a ``module:qualname`` reference.

        :raises JobNotBoundError: the job did not come from a scheduler.
        :raises InvalidJobError: the reference no longer resolves (its module is gone,
            fails to import, or no longer defines an accepted callable of that name).
        """
        owner = self._bound("func")
        try:
            return owner.registry.resolve(self.func_ref)
        except TickworkError as exc:
            raise InvalidJobError(
                f"job {self.id!r}: func {self.func_ref!r} cannot be resolved: {exc}",
                field="func",
            ) from exc

    def modify(self, **changes: Any) -> Job:
        """:meth:`Scheduler.modify_job <tickwork.Scheduler.modify_job>` of this job."""
        return self._bound("modify").modify_job(self.id, **changes)

    def reschedule(self, trigger: Any, **trigger_args: Any) -> Job:
        """:meth:`Scheduler.reschedule_job <tickwork.Scheduler.reschedule_job>` of this
        job."""
        return self._bound("reschedule").reschedule_job(self.id, None, trigger, **trigger_args)

    def pause(self, *, note: str | None = None) -> Job:
        """:meth:`Scheduler.pause_job <tickwork.Scheduler.pause_job>` of this job."""
        return self._bound("pause").pause_job(self.id, note=note)

    def resume(self) -> Job:
        """:meth:`Scheduler.resume_job <tickwork.Scheduler.resume_job>` of this job."""
        return self._bound("resume").resume_job(self.id)

    def remove(self) -> None:
        """:meth:`Scheduler.remove_job <tickwork.Scheduler.remove_job>` of this job."""
        self._bound("remove").remove_job(self.id)

    def _bound(self, method: str) -> JobOwner:
        owner: JobOwner | None = getattr(self, "_owner", None)
        if owner is None:
            raise JobNotBoundError(
                f"job {self.id!r}.{method} needs the scheduler the job came from; this Job "
                "was built elsewhere: get it from the scheduler (scheduler.get_job(id)), or "
                "call the scheduler's method of that name with the job's id"
            )
        return owner

    def __repr__(self) -> str:
        return f"<Job (id={self.id} name={self.name})>"

    def __str__(self) -> str:
        status = (
            f"next run at: {datetime_repr(self.next_run_time)}"
            if self.next_run_time is not None
            else "paused"
        )
        return f"{self.name} (trigger: {self.trigger}, {status})"

    @property
    def paused(self) -> bool:
        return self.next_run_time is None

    def evolve(self, **changes: Any) -> Job:
        """Return a copy with ``changes`` applied and validated.

        A copy that is scheduled (has a next run time) is not paused, so it keeps no pause
        note: whatever schedules it again (resuming, a new trigger, a next run time)
        clears the note, who paused and when.
        """
        job = replace(self, **changes)
        if job.next_run_time is not None:
            job = replace(job, paused_note=None, paused_by=None, paused_at=None)
        return validate_job(job)

    def to_dict(self) -> dict[str, Any]:
        """Return the job as a JSON-safe dict keyed as the store and config name fields."""
        data = {spec.key: _plain(getattr(self, spec.attr)) for spec in FIELDS}
        data["trigger"] = self.trigger.to_dict()
        return data


def bind(job: Job, owner: JobOwner) -> Job:
    """Return ``job``, bound to the scheduler that returns it, so its methods work.

    The one write to a frozen job, made before anyone else sees it; see :class:`_Bindable`.
    """
    object.__setattr__(job, "_owner", owner)
    return job


@dataclass(frozen=True, slots=True)
class JobField:
    """One field of :class:`Job` with its metadata resolved (``key`` always set)."""

    attr: str
    key: str
    role: Role
    value: Value | None
    defaulted: bool
    label: str
    default: Any


def _resolve() -> tuple[JobField, ...]:
    resolved = []
    for item in fields(Job):
        spec: FieldSpec = item.metadata[_SPEC]
        key = spec.key or item.name
        default = item.default_factory() if item.default_factory is not MISSING else item.default
        resolved.append(
            JobField(
                item.name,
                key,
                spec.role,
                spec.value,
                spec.defaulted,
                spec.label or key.replace("_", " "),
                default,
            )
        )
    return tuple(resolved)


#: Every field of a job, in declaration order.
FIELDS: Final = _resolve()
#: Fields by their outside name (``"func"``, not ``"func_ref"``).
BY_KEY: Final = {spec.key: spec for spec in FIELDS}
#: The options, with the kind of value each holds.
OPTIONS: Final = tuple(spec for spec in FIELDS if spec.role is Role.OPTION)
#: Defaults of the options ``job_defaults`` may change (APScheduler 3's, and tickwork's own).
OPTION_DEFAULTS: Final = {spec.key: spec.default for spec in OPTIONS if spec.defaulted}
#: Outside names of what may change after adding (everything but the id and engine state).
MODIFIABLE: Final = frozenset(
    spec.key for spec in FIELDS if spec.role not in (Role.IDENTITY, Role.STATE)
)
#: Outside names of what a job calls.
CALL_FIELDS: Final = tuple(spec.key for spec in FIELDS if spec.role is Role.CALL)


def job_values(job: Job) -> dict[str, Any]:
    """``job``'s fields by outside name, as Python values (``args`` a list): what the
    store writes, each converter adjusting only what its form needs (the trigger)."""
    values = {spec.key: getattr(job, spec.attr) for spec in FIELDS}
    values["args"] = list(job.args)
    return values


def job_kwargs(values: Mapping[Any, Any]) -> dict[str, Any]:
    """:class:`Job` keyword arguments from values keyed by outside name (the inverse of
    :func:`job_values`); keys that are no field of a job are left out."""
    return {spec.attr: values[spec.key] for spec in FIELDS if spec.key in values}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def validate_job(job: Job) -> Job:
    """Return ``job``, or raise :class:`InvalidJobError` naming the first bad field."""
    if not isinstance(job.id, str) or not job.id:
        raise InvalidJobError(f"id must be a non-empty string, got {job.id!r}", field="id")
    check_job_id(job.id)
    _FUNC.check("func", job.func_ref)
    if not isinstance(job.trigger, Trigger):
        raise InvalidJobError(f"trigger must be a Trigger, got {job.trigger!r}", field="trigger")
    for spec in OPTIONS:
        assert spec.value is not None  # every option declares one
        spec.value.check(spec.key, getattr(job, spec.attr))
    if job.next_run_time is not None and (
        not isinstance(job.next_run_time, datetime) or job.next_run_time.tzinfo is None
    ):
        raise InvalidJobError(
            f"next_run_time must be an aware datetime or None, got {job.next_run_time!r}",
            field="next_run_time",
        )
    check_arguments(job.args, job.kwargs)
    return job


def check_arguments(args: tuple[Any, ...], kwargs: object) -> None:
    """Refuse call arguments a job could not be stored with: those of a job, and those a
    run-now gives for one run (:meth:`Scheduler.run_job <tickwork.Scheduler.run_job>`).

    :raises InvalidJobError: naming ``args`` or ``kwargs``.
    """
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise InvalidJobError(
            f"kwargs must be a dict with string keys, got {kwargs!r}", field="kwargs"
        )
    if args:
        ensure_json("args", list(args))
    if kwargs:
        ensure_json("kwargs", kwargs)


_FUNC: Final = Text(required="a non-empty reference")


def ensure_json(field_name: str, value: Any) -> None:
    """Refuse values that would not survive a JSON round trip unchanged, or are too big.

    Checking the round trip, not just ``json.dumps``, catches tuples, non-string keys and
    NaN, which JSON would silently turn into something else. The shape is checked first,
    without recursion, so a value nested thousands deep is refused rather than crash.
    """
    check_json_shape(field_name, value)
    try:
        encoded = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(
            f"{field_name} must be JSON-serialisable: {exc}", field=field_name
        ) from None
    if len(encoded) > MAX_ARGUMENTS_BYTES:
        raise InvalidJobError(
            f"{field_name} must be at most {MAX_ARGUMENTS_BYTES} bytes as JSON, got {len(encoded)}",
            field=field_name,
        )
    if json.loads(encoded) != _normalise(value):
        raise InvalidJobError(
            f"{field_name} must hold only JSON types (str, int, float, bool, None, list, "
            f"dict with str keys), got {value!r}",
            field=field_name,
        )


def _normalise(value: Any) -> Any:
    """``value`` with tuples as lists, the one JSON change we accept silently."""
    if isinstance(value, tuple | list):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value
