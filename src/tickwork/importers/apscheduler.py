"""Importing the jobs of an APScheduler 3 ``SQLAlchemyJobStore`` into tickwork.

Each stored job is converted on its own; a job that cannot be converted is reported with
the reason and never stops the others. Everything converted is then added with one
:meth:`Scheduler.add_jobs <tickwork.scheduler.Scheduler.add_jobs>` call, so the import
itself is one transaction: either every converted job is stored or none is.

What is kept: the job id, the function reference, args and kwargs (when JSON), the
trigger (date, interval, cron, calendarinterval, and/or of these) with its zone,
start/end dates and jitter, the next run time (``None`` keeps a paused job paused), the
name, ``misfire_grace_time``, ``coalesce`` and ``max_instances``. An executor the
scheduler does not configure is mapped to ``"default"`` with a warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tickwork.exceptions import ConfigurationError, InvalidJobError
from tickwork.importers.apscheduler_store import (
    DEFAULT_TABLE,
    PickledTrigger,
    SourceRow,
    Unresolved,
    display_url,
    load_job_state,
    read_rows,
    require_apscheduler,
)
from tickwork.importers.report import ConvertedJob, FailedJob, ImportReport
from tickwork.job import OPTION_DEFAULTS, Job, job_kwargs, validate_job
from tickwork.jobbuild import job_spec
from tickwork.scheduler import Scheduler
from tickwork.tasks import TaskRegistry
from tickwork.triggers import Trigger, build_trigger

__all__ = ["convert_row", "import_apscheduler"]

_T = TypeVar("_T")
_Warnings = list[str]
_TriggerConverter = Callable[[dict[str, Any], _Warnings], Trigger]


def import_apscheduler(
    source_url: str,
    scheduler: Scheduler | None = None,
    *,
    table: str = DEFAULT_TABLE,
    dry_run: bool = False,
    replace_existing: bool = False,
    all_or_nothing: bool = False,
) -> ImportReport:
    """Convert every job of an APScheduler 3 job store table and add them to ``scheduler``.

    The source is unpickled, so it must be a database you trust; only ``table`` is read
    and nothing is written to it.

    :param source_url: SQLAlchemy URL of the APScheduler database.
    :param scheduler: where jobs go. Its task registry resolves function references and
        its executors decide which executor names are kept. Optional with ``dry_run``.
    :param table: the job store's table (``tablename``), optionally ``schema.table``.
    :param dry_run: convert and report only; tickwork's database is not even opened, so
        ids already taken there are only found by a real run.
    :param replace_existing: overwrite tickwork jobs with the same ids; otherwise such
        jobs are reported as failed and the others are still added.
    :param all_or_nothing: add nothing when any job failed.
    :raises ConfigurationError: bad source URL, missing table, APScheduler not installed.
    :raises StoreError: a database could not be read or written.
    """
    if scheduler is None and not dry_run:
        raise ConfigurationError("a scheduler is needed to add the jobs (or use dry_run)")
    require_apscheduler()
    rows = read_rows(source_url, table)
    registry = scheduler.registry if scheduler is not None else TaskRegistry()
    executors: Collection[str] = scheduler.executors if scheduler is not None else {"default"}
    defaults = scheduler.job_defaults if scheduler is not None else OPTION_DEFAULTS
    converted: list[ConvertedJob] = []
    failed: list[FailedJob] = []
    for row in rows:
        try:
            converted.append(
                convert_row(row, registry=registry, executors=executors, defaults=defaults)
            )
        except ConfigurationError as exc:
            failed.append(FailedJob(row.id, str(exc)))
        except Exception as exc:  # a malformed state can break in many ways; report it
            failed.append(FailedJob(row.id, f"unexpected job state ({type(exc).__name__}: {exc})"))
    if scheduler is not None and not dry_run and not replace_existing:
        converted, taken = _split_taken(converted, scheduler)
        failed = sorted([*failed, *taken], key=lambda item: item.id)
    held_back = all_or_nothing and bool(failed)
    if scheduler is not None and not dry_run and not held_back and converted:
        specs = [job_spec(item.job) for item in converted]
        scheduler.add_jobs(specs, replace_existing=replace_existing)
    return ImportReport(
        source=display_url(source_url),
        table=table,
        dry_run=dry_run,
        added=not dry_run and not held_back,
        converted=tuple(converted),
        failed=tuple(failed),
    )


def convert_row(
    row: SourceRow,
    *,
    registry: TaskRegistry,
    executors: Collection[str] = ("default",),
    defaults: Mapping[str, Any] = OPTION_DEFAULTS,
) -> ConvertedJob:
    """Convert one stored APScheduler job.

    The function reference is resolved through ``registry`` (importing its module, as
    :meth:`Scheduler.add_job` does), so run the import where the application's modules
    are importable. Lambdas and nested functions are refused without importing anything.
    Options APScheduler's job state does not hold (tickwork's own) take ``defaults``.

    :raises ConfigurationError: (usually :class:`InvalidJobError`) naming what cannot be
        converted.
    """
    state = load_job_state(row.job_state)
    version = state.get("version", 1)
    if version != 1:
        raise InvalidJobError(f"job state version {version!r} is not APScheduler 3's (1)")
    warnings: _Warnings = []
    problems: list[str] = []
    func = state.get("func")
    func_ref = _attempt(problems, lambda: _func_ref(func, registry))
    args = state.get("args") or ()
    kwargs = state.get("kwargs") or {}
    bound_method = isinstance(func, str) and "." in func.rpartition(":")[2]
    _attempt(problems, lambda: _require_json("args", args, bound_method))
    _attempt(problems, lambda: _require_json("kwargs", kwargs, bound_method))
    trigger = _attempt(problems, lambda: _trigger(state.get("trigger"), warnings))
    next_run_time = _attempt(
        problems, lambda: _optional_aware(state.get("next_run_time"), "next_run_time")
    )
    if problems or func_ref is None or trigger is None:
        raise InvalidJobError("; ".join(problems))
    job = Job(
        id=row.id,
        func_ref=func_ref,
        trigger=trigger,
        args=tuple(args),
        kwargs=dict(kwargs),
        name=state.get("name") or func_ref.rpartition(":")[2],
        executor=_executor(state.get("executor", "default"), executors, warnings),
        next_run_time=next_run_time,
        **job_kwargs({key: state.get(key, default) for key, default in defaults.items()}),
    )
    return ConvertedJob(validate_job(job), tuple(warnings))


def _attempt(problems: list[str], part: Callable[[], _T]) -> _T | None:
    """Run one part of a conversion; note what is wrong instead of stopping, so that a
    job's report names every problem at once."""
    try:
        return part()
    except ConfigurationError as exc:
        problems.append(str(exc))
        return None


# -- function, arguments, executor --------------------------------------------------------


def _func_ref(value: object, registry: TaskRegistry) -> str:
    if not isinstance(value, str) or ":" not in value:
        raise InvalidJobError(f"func {value!r} is not a 'module:qualname' reference")
    if "<lambda>" in value or "<locals>" in value:
        raise InvalidJobError(
            f"func {value} is a lambda or a nested function, which cannot be imported by "
            "reference; move it to module level"
        )
    try:
        return registry.ref_for(value)
    except ConfigurationError:
        raise
    except Exception as exc:  # the module itself failed while being imported
        raise InvalidJobError(
            f"func {value} cannot be imported: {type(exc).__name__}: {exc}"
        ) from None


def _require_json(field: str, value: object, bound_method: bool) -> None:
    problem = _non_json(value, field)
    if problem is None:
        return
    message = f"{problem}: tickwork stores arguments as JSON"
    if bound_method and problem.startswith("args[0] is "):
        message += (
            " (APScheduler stores the instance of a bound method as args[0]; schedule a "
            "module-level function, a static/class method or a registered task instead)"
        )
    raise InvalidJobError(message)


def _non_json(value: object, path: str) -> str | None:
    """Where ``value`` holds something JSON cannot keep, or None."""
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value!r}"
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _non_json(item, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has the non-string key {key!r}"
            found = _non_json(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, Unresolved):
        return f"{path} is an instance of {value.ref} (not imported)"
    kind = type(value)
    return f"{path} is a {kind.__module__}.{kind.__qualname__} ({value!r:.80})"


def _executor(name: object, executors: Collection[str], warnings: _Warnings) -> str:
    if not isinstance(name, str):
        raise InvalidJobError(f"executor {name!r} is not a name")
    if name in executors:
        return name
    warnings.append(
        f"executor {name!r} is not configured in tickwork; the job runs on 'default' "
        "(configure the executor and modify the job to move it back)"
    )
    return "default"


# -- time -------------------------------------------------------------------------------


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidJobError(f"{field} {value!r} is not an aware datetime")
    return value


def _optional_aware(value: object, field: str) -> datetime | None:
    return None if value is None else _aware(value, field)


def _zone(value: object, warnings: _Warnings) -> ZoneInfo:
    """The trigger's zone as a named ZoneInfo; whole-hour fixed offsets become Etc/GMT±N."""
    if isinstance(value, ZoneInfo) and value.key:
        return value
    if isinstance(value, timezone):
        offset = value.utcoffset(None)
        if not offset:
            return ZoneInfo("UTC")
        hours, rest = divmod(offset, timedelta(hours=1))
        if not rest and -12 <= hours <= 14:
            name = f"Etc/GMT{-hours:+d}"
            warnings.append(f"the fixed offset {value} is stored as the zone {name}")
            return ZoneInfo(name)
    raise InvalidJobError(
        f"time zone {value!r} has no IANA name; tickwork triggers need a zoneinfo zone"
    )


# -- triggers -----------------------------------------------------------------------------


def _trigger(value: object, warnings: _Warnings) -> Trigger:
    if isinstance(value, PickledTrigger):
        return _convert_trigger(value.class_ref, value.state, warnings)
    if isinstance(value, Unresolved):
        raise InvalidJobError(f"trigger class {value.ref} is not one of APScheduler's")
    raise InvalidJobError(f"trigger {value!r} is not an APScheduler trigger")


def _convert_trigger(class_ref: str, state: object, warnings: _Warnings) -> Trigger:
    known = _TRIGGERS.get(class_ref)
    if known is None:
        raise InvalidJobError(
            f"trigger class {class_ref} cannot be converted; supported: "
            + ", ".join(ref.rpartition(":")[2] for ref in _TRIGGERS)
        )
    max_version, convert = known
    if isinstance(state, tuple) and len(state) == 2:  # APScheduler 3.0 pickled (version, state)
        state = state[1]
    if not isinstance(state, dict):
        raise InvalidJobError(f"{class_ref} state {state!r} is not a dict")
    version = state.get("version", 1)
    if not isinstance(version, int) or version > max_version:
        raise InvalidJobError(f"{class_ref} state version {version!r} is newer than supported")
    return convert(state, warnings)


def _date_trigger(state: dict[str, Any], warnings: _Warnings) -> Trigger:
    run_date = _aware(state["run_date"], "run_date")
    zone = _zone(run_date.tzinfo, warnings)
    return build_trigger("date", run_date=run_date, timezone=zone)


def _interval_trigger(state: dict[str, Any], warnings: _Warnings) -> Trigger:
    start = _aware(state["start_date"], "start_date")
    zone = _zone(state.get("timezone") or start.tzinfo, warnings)
    interval = state["interval"]
    if not isinstance(interval, timedelta):
        raise InvalidJobError(f"interval {interval!r} is not a timedelta")
    seconds: float = interval.seconds
    if interval.microseconds:
        seconds += interval.microseconds / 1_000_000
    return build_trigger(
        "interval",
        days=interval.days,
        seconds=seconds,
        start_date=start,
        end_date=_optional_aware(state.get("end_date"), "end_date"),
        timezone=zone,
        jitter=state.get("jitter"),
    )


def _cron_trigger(state: dict[str, Any], warnings: _Warnings) -> Trigger:
    expressions: dict[str, Any] = {}
    for field in state["fields"]:
        name = getattr(field, "name", None)
        if not isinstance(name, str):
            raise InvalidJobError(f"cron field {field!r} is not an APScheduler cron field")
        if not getattr(field, "is_default", False):
            expressions[name] = str(field)
    return build_trigger(
        "cron",
        **expressions,
        start_date=_optional_aware(state.get("start_date"), "start_date"),
        end_date=_optional_aware(state.get("end_date"), "end_date"),
        timezone=_zone(state.get("timezone"), warnings),
        jitter=state.get("jitter"),
    )


def _calendar_interval_trigger(state: dict[str, Any], warnings: _Warnings) -> Trigger:
    years, months, weeks, days = state["interval"]
    hour, minute, second = state["time"]
    for field in ("start_date", "end_date"):
        value = state.get(field)
        if value is not None and not isinstance(value, date):
            raise InvalidJobError(f"{field} {value!r} is not a date")
    return build_trigger(
        "calendarinterval",
        years=years,
        months=months,
        weeks=weeks,
        days=days,
        hour=hour,
        minute=minute,
        second=second,
        start_date=state.get("start_date"),
        end_date=state.get("end_date"),
        timezone=_zone(state.get("timezone"), warnings),
        jitter=state.get("jitter"),
    )


def _combining_trigger(kind: str) -> _TriggerConverter:
    def convert(state: dict[str, Any], warnings: _Warnings) -> Trigger:
        children = [
            _convert_trigger(class_ref, child_state, warnings)
            for class_ref, child_state in state["triggers"]
        ]
        if kind == "or" and any(child.kind == "interval" for child in children):
            warnings.append(
                "an interval inside an 'or' trigger keeps its own grid in tickwork; "
                "APScheduler restarts it from whichever child fired last"
            )
        return build_trigger(kind, triggers=children, jitter=state.get("jitter"))

    return convert


#: Supported trigger classes (``module:qualname``) → (newest state version, converter).
_TRIGGERS: Mapping[str, tuple[int, _TriggerConverter]] = {
    "apscheduler.triggers.date:DateTrigger": (1, _date_trigger),
    "apscheduler.triggers.interval:IntervalTrigger": (2, _interval_trigger),
    "apscheduler.triggers.cron:CronTrigger": (2, _cron_trigger),
    "apscheduler.triggers.calendarinterval:CalendarIntervalTrigger": (
        1,
        _calendar_interval_trigger,
    ),
    "apscheduler.triggers.combining:AndTrigger": (1, _combining_trigger("and")),
    "apscheduler.triggers.combining:OrTrigger": (1, _combining_trigger("or")),
}


# -- adding -------------------------------------------------------------------------------


def _split_taken(
    converted: list[ConvertedJob], scheduler: Scheduler
) -> tuple[list[ConvertedJob], list[FailedJob]]:
    """Separate jobs whose id tickwork already has (one query per job, none when empty)."""
    if not converted or scheduler.count_jobs() == 0:
        return converted, []
    free: list[ConvertedJob] = []
    taken: list[FailedJob] = []
    for item in converted:
        if scheduler.get_job(item.job.id) is None:
            free.append(item)
        else:
            taken.append(
                FailedJob(
                    item.job.id,
                    "a tickwork job with this id exists already (--replace-existing overwrites it)",
                )
            )
    return free, taken
