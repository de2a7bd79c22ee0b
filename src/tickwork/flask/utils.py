"""Flask-APScheduler's helpers (``flask_apscheduler.utils``) for tickwork's jobs.

Apps import them to show jobs or to take job definitions apart; each returns what
Flask-APScheduler 1.13's returns for the same job definition, with tickwork's jobs and
triggers in place of APScheduler's. They hold no rules of their own: a trigger is flattened
as the REST API's job JSON flattens it (:func:`tickwork.jobjson.trigger_to_json`), a nested
``"trigger": {"type": ...}`` is read by :func:`tickwork.jobbuild.flatten_trigger`, and a
trigger's argument names are the trigger's own (:func:`tickwork.triggers.trigger_arguments`).

Where they differ, on purpose: a sub-second interval keeps its fraction (``seconds=1.5``,
where Flask-APScheduler drops it), ``pop_trigger`` also takes ``jitter`` and knows every
tickwork trigger, dates must be ISO 8601 text, and a field given both inside a nested
trigger and beside it is refused instead of silently taking the nested value.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any, Final

from tickwork.exceptions import InvalidJobError
from tickwork.job import Job
from tickwork.jobbuild import flatten_trigger
from tickwork.jobjson import INTERVAL_UNITS, trigger_to_json
from tickwork.triggers import Trigger, trigger_arguments
from tickwork.triggers.cron.fields import FIELD_NAMES

#: The fields Flask-APScheduler writes for the triggers it knows, in its order; it writes
#: any other trigger as its ``str``.
_WRITTEN: Final[dict[str, tuple[str, ...]]] = {
    "date": ("run_date",),
    "interval": ("start_date", "end_date", *INTERVAL_UNITS),
    "cron": ("start_date", "end_date", *FIELD_NAMES),
}
#: Fields that are datetimes, given as the trigger's own (aware, in its zone).
_DATES: Final = ("run_date", "start_date", "end_date")


def job_to_dict(job: Job) -> OrderedDict[str, Any]:
    """The job as Flask-APScheduler's REST API writes it, with Python values; a pending job
    (see :class:`tickwork.flask.pending.PendingJob`) leaves out what it does not have yet
    there: ``misfire_grace_time``, ``max_instances`` and ``next_run_time``."""
    data: OrderedDict[str, Any] = OrderedDict()
    data["id"] = job.id
    data["name"] = job.name
    data["func"] = job.func_ref
    data["args"] = job.args
    data["kwargs"] = job.kwargs
    data.update(trigger_to_dict(job.trigger))
    if not job.pending:
        data["misfire_grace_time"] = job.misfire_grace_time
        data["max_instances"] = job.max_instances
        data["next_run_time"] = job.next_run_time
    return data


def trigger_to_dict(trigger: Trigger) -> OrderedDict[str, Any]:
    """``trigger`` plus the fields that are set (no zero units, no missing dates); a
    trigger Flask-APScheduler does not know (and, or, calendarinterval) as its ``str``."""
    written = _WRITTEN.get(trigger.kind)
    if written is None:
        return OrderedDict(trigger=str(trigger))
    flat = trigger_to_json(trigger)
    data: OrderedDict[str, Any] = OrderedDict(trigger=trigger.kind)
    for name in written:
        if name in flat:
            data[name] = getattr(trigger, name) if name in _DATES else flat[name]
    return data


def pop_trigger(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Pop ``trigger`` and its arguments from ``data``; return both.

    :raises KeyError: ``data`` has no ``trigger``.
    :raises TriggerArgumentError: it names no trigger (``trigger`` is popped even so).
    """
    trigger_name = data.pop("trigger")
    names = trigger_arguments(trigger_name)
    return trigger_name, {name: data.pop(name) for name in list(data) if name in names}


def fix_job_def(job_def: dict[str, Any]) -> None:
    """Turn ``job_def``'s date strings into datetimes and a nested trigger into the flat
    form, in place (dates inside a nested trigger stay as given, as there)."""
    for name in _DATES:
        value = job_def.get(name)
        if isinstance(value, str):
            job_def[name] = _parse_datetime(name, value)
    flat = flatten_trigger(job_def)
    job_def.clear()
    job_def.update(flat)


def _parse_datetime(name: str, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidJobError(f"{name} {text!r} is not an ISO 8601 datetime", field=name) from None
