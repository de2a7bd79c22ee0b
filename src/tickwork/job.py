"""The job: what to call, with what, and when; a frozen value that maps 1:1 to a store row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tickwork.exceptions import InvalidJobError
from tickwork.limits import (
    MAX_ARGUMENTS_BYTES,
    MAX_DURATION,
    MAX_INT32,
    bad_text,
    check_job_id,
    check_json_shape,
)
from tickwork.triggers import Trigger

#: Option names a job has besides its id, function, arguments and trigger.
JOB_OPTIONS = frozenset(
    {"name", "executor", "misfire_grace_time", "coalesce", "max_instances", "rerun_lost"}
)


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled job.

    ``next_run_time`` is ``None`` while the job is paused, as in APScheduler.
    ``func_ref`` is a ``"package.module:qualname"`` reference or the name of a registered
    task; the callable itself is never stored.

    Construction does not validate, so loading thousands of stored rows stays cheap;
    everything that builds a job from outside input goes through :func:`validate_job`
    (the scheduler, :meth:`evolve`).
    """

    id: str
    func_ref: str
    trigger: Trigger
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    executor: str = "default"
    misfire_grace_time: float | None = 1.0
    coalesce: bool = True
    max_instances: int = 1
    rerun_lost: bool = False
    next_run_time: datetime | None = None
    #: Why the engine stopped scheduling this job (its row could not be decoded, or its
    #: trigger failed); set by a claim, cleared by any edit. A broken job is not due.
    broken_reason: str | None = None
    broken_at: datetime | None = None

    @property
    def pending(self) -> bool:
        """APScheduler compatibility: a stored job is never pending."""
        return False

    @property
    def paused(self) -> bool:
        return self.next_run_time is None

    def evolve(self, **changes: Any) -> Job:
        """Return a copy with ``changes`` applied and validated."""
        return validate_job(replace(self, **changes))

    def to_dict(self) -> dict[str, Any]:
        """Return the job as a JSON-safe dict (the store's row and the API's basis)."""
        return {
            "id": self.id,
            "name": self.name,
            "func": self.func_ref,
            "args": list(self.args),
            "kwargs": dict(self.kwargs),
            "trigger": self.trigger.to_dict(),
            "executor": self.executor,
            "misfire_grace_time": self.misfire_grace_time,
            "coalesce": self.coalesce,
            "max_instances": self.max_instances,
            "rerun_lost": self.rerun_lost,
            "next_run_time": self.next_run_time.isoformat() if self.next_run_time else None,
            "broken_reason": self.broken_reason,
            "broken_at": self.broken_at.isoformat() if self.broken_at else None,
        }


def validate_job(job: Job) -> Job:
    """Return ``job``, or raise :class:`InvalidJobError` naming the first bad field."""
    if not isinstance(job.id, str) or not job.id:
        raise InvalidJobError(f"id must be a non-empty string, got {job.id!r}", field="id")
    check_job_id(job.id)
    for name, value in (("func", job.func_ref), ("name", job.name), ("executor", job.executor)):
        if not isinstance(value, str):
            raise InvalidJobError(f"{name} must be a string, got {value!r}", field=name)
        reason = bad_text(value)
        if reason is not None:
            raise InvalidJobError(f"{name} {reason}", field=name)
    if not job.func_ref:
        raise InvalidJobError("func must be a non-empty reference", field="func")
    if not isinstance(job.trigger, Trigger):
        raise InvalidJobError(f"trigger must be a Trigger, got {job.trigger!r}", field="trigger")
    if not job.executor:
        raise InvalidJobError("executor must be a non-empty string", field="executor")
    grace = job.misfire_grace_time
    if grace is not None and (
        isinstance(grace, bool)
        or not isinstance(grace, int | float)
        or not 0 < grace <= MAX_DURATION.total_seconds()
    ):
        raise InvalidJobError(
            "misfire_grace_time must be a positive number of seconds up to "
            f"{MAX_DURATION.total_seconds():.0f}, or None, got {grace!r}",
            field="misfire_grace_time",
        )
    for name in ("coalesce", "rerun_lost"):
        if not isinstance(getattr(job, name), bool):
            raise InvalidJobError(
                f"{name} must be a boolean, got {getattr(job, name)!r}", field=name
            )
    if isinstance(job.max_instances, bool) or not isinstance(job.max_instances, int):
        raise InvalidJobError(
            f"max_instances must be an integer, got {job.max_instances!r}", field="max_instances"
        )
    if not 1 <= job.max_instances <= MAX_INT32:
        raise InvalidJobError(
            f"max_instances must be from 1 to {MAX_INT32}, got {job.max_instances}",
            field="max_instances",
        )
    if job.next_run_time is not None and (
        not isinstance(job.next_run_time, datetime) or job.next_run_time.tzinfo is None
    ):
        raise InvalidJobError(
            f"next_run_time must be an aware datetime or None, got {job.next_run_time!r}",
            field="next_run_time",
        )
    if not isinstance(job.kwargs, dict) or not all(isinstance(k, str) for k in job.kwargs):
        raise InvalidJobError(
            f"kwargs must be a dict with string keys, got {job.kwargs!r}", field="kwargs"
        )
    if job.args:
        ensure_json("args", list(job.args))
    if job.kwargs:
        ensure_json("kwargs", job.kwargs)
    return job


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
