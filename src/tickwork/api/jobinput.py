"""Reading job definitions sent by untrusted clients (REST bodies) and by config.

Flask-APScheduler passes the request body straight to ``add_job(**data)``, so a typo turns
into a 500 and any importable callable can be scheduled. Here each body is checked before
the scheduler sees it: required fields are present, values have JSON's obvious types, and
``func`` is a registered task or matches the allow-list, checked *before* anything is
imported. Trigger fields are passed on to the trigger, which names any field it rejects.
The scheduler builds the whole job before writing, so a refused body leaves the store as
it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tickwork.api.errors import ApiError
from tickwork.exceptions import CallableNotAllowedError, ConfigurationError, InvalidJobError
from tickwork.job import JOB_OPTIONS, Job
from tickwork.limits import check_json_shape
from tickwork.tasks import TaskRegistry

#: Keys of a job body that are not trigger fields.
JOB_KEYS = JOB_OPTIONS | {
    "id",
    "func",
    "trigger",
    "args",
    "kwargs",
    "next_run_time",
    "jobstore",
    "replace_existing",
}


#: What a job calls; only changeable over the API on jobs the API could have added.
CALL_FIELDS = ("func", "args", "kwargs")


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
            raise InvalidJobError(f"{clashes[0]} is given both in trigger and beside it")
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
        raise ApiError(400, "id is required and must be a non-empty string", "id")
    _check_func(spec, registry, required=True)
    _check_arguments(spec)
    if spec.get("name") is None:
        spec["name"] = job_id  # Flask-APScheduler names a job after its id
    _check_type(spec, "name", str, "a string")
    _check_type(spec, "replace_existing", bool, "a boolean")
    _check_trigger_name(spec)
    return spec


def trusted_job_specs(jobs: Iterable[Mapping[str, Any]], label: str) -> list[dict[str, Any]]:
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
        except (ApiError, InvalidJobError) as exc:
            raise ConfigurationError(f"{label}[{index}]: {exc}") from None
        spec.pop("replace_existing", None)
        if spec.pop("jobstore", None) not in (None, "default"):
            raise ConfigurationError(f"{label}[{index}]: only one jobstore exists")
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
        raise ApiError(400, "id cannot be changed", "id")
    if "replace_existing" in changes:
        raise ApiError(400, "replace_existing only applies when adding a job", "replace_existing")
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
        raise ApiError(400, "func is required and must be a 'module:qualname' or task name", "func")
    if registry is not None:
        try:
            registry.check_allowed(func)
        except CallableNotAllowedError:
            raise
        except InvalidJobError as exc:  # allowed, but there is nothing of that name
            raise ApiError(400, str(exc), "func") from None


def _check_call_editable(
    changes: Mapping[str, Any], current: Callable[[], Job], registry: TaskRegistry
) -> None:
    """Refuse changing what a job calls unless its current func is REST-schedulable."""
    field = next((key for key in CALL_FIELDS if key in changes), None)
    if field is None:
        return
    func_ref = current().func_ref
    if not registry.is_allowed(func_ref):
        raise ApiError(
            403,
            f"{field} of job {current().id} cannot be changed over the API: its func "
            f"{func_ref!r} is not a registered task nor allowed; it may only be paused, "
            "resumed, run as it is or removed",
            field,
        )


def _check_arguments(spec: dict[str, Any]) -> None:
    if spec.get("args") is not None and not isinstance(spec["args"], list):
        raise ApiError(400, "args must be a JSON array", "args")
    if spec.get("kwargs") is not None and not isinstance(spec["kwargs"], dict):
        raise ApiError(400, "kwargs must be a JSON object", "kwargs")


def _check_trigger_name(spec: dict[str, Any]) -> None:
    _check_type(spec, "trigger", str, "a trigger name or a trigger object with a type")


def _check_type(spec: dict[str, Any], key: str, expected: type, description: str) -> None:
    if key in spec and spec[key] is not None and not isinstance(spec[key], expected):
        raise ApiError(400, f"{key} must be {description}, got {spec[key]!r}", key)
