"""Jobs as Flask-APScheduler 1.13 writes them: the REST API's job JSON.

Flask-APScheduler flattens the trigger into the job: ``"trigger": "interval"`` beside
``"hours": 1, "minutes": 30``, leaving out zero units and unset dates; cron fields are
strings. Tickwork writes the same keys, and adds the ones Flask-APScheduler has no place
for (``timezone``, ``jitter`` when set, and every option of :class:`~tickwork.job.Job`)
so that a job read from the API can be posted back unchanged, and says whether the engine
marked the job broken (``broken_reason``, ``broken_at``) and why, by whom and when it was
paused (``paused_note``, ``paused_by``, ``paused_at``).
"""

from __future__ import annotations

import json
from typing import Any

from tickwork.job import Job
from tickwork.limits import LIST_ARGUMENTS_BYTES
from tickwork.run import Run
from tickwork.triggers import Trigger

#: The units an interval is written in, largest first (as Flask-APScheduler writes them).
INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")
_CALENDAR_UNITS = ("years", "months", "weeks", "days")


def job_to_json(job: Job, *, listing: bool = False) -> dict[str, Any]:
    """Return ``job`` in Flask-APScheduler's format (``next_run_time`` null when paused).

    :param listing: for a list of jobs: arguments longer than
        :data:`~tickwork.limits.LIST_ARGUMENTS_BYTES` are left out (``[]``/``{}``) and
        ``"args_truncated": true`` says so; the job's own route has them whole.
    """
    data: dict[str, Any] = {}
    for key, value in job.to_dict().items():
        if key == "trigger":
            data.update(trigger_to_json(job.trigger))
        else:
            data[key] = value
    if listing and _arguments_size(job.args, job.kwargs) > LIST_ARGUMENTS_BYTES:
        data.update(args=[], kwargs={}, args_truncated=True)
    return data


def run_to_json(run: Run) -> dict[str, Any]:
    """``run`` as history lists it: like a job in a listing, arguments of a run-now's own
    longer than :data:`~tickwork.limits.LIST_ARGUMENTS_BYTES` are left out (null) and
    ``"args_truncated": true`` says so (``Scheduler.get_runs`` has them whole)."""
    data = run.to_dict()
    if _arguments_size(run.args, run.kwargs) > LIST_ARGUMENTS_BYTES:
        data.update(args=None, kwargs=None, args_truncated=True)
    return data


def _arguments_size(args: Any, kwargs: Any) -> int:
    """Bytes of ``args`` plus ``kwargs`` as compact JSON (ASCII-escaped, as responses are)."""
    compact = (",", ":")
    return len(json.dumps(args, separators=compact)) + len(json.dumps(kwargs, separators=compact))


def trigger_to_json(trigger: Trigger) -> dict[str, Any]:
    """Flatten a trigger into ``trigger`` plus its fields, dropping defaults as FA does."""
    fields = trigger.to_dict()
    kind = fields.pop("type")
    data: dict[str, Any] = {"trigger": kind}
    units = {"interval": INTERVAL_UNITS, "calendarinterval": _CALENDAR_UNITS}.get(kind, ())
    for name, value in fields.items():
        if value is None or (name in units and value == 0):
            continue
        data[name] = value
    return data
