"""``tickwork jobs``: list, show, add, pause, resume, run and remove jobs."""

from __future__ import annotations

import itertools
import signal
import threading
from types import FrameType
from typing import Any

import click

from tickwork.cli.base import (
    TickworkGroup,
    echo_json,
    echo_table,
    json_option,
    open_scheduler,
    parse_assignments,
    parse_json,
    when,
    with_store_options,
)
from tickwork.cli.runs import echo_runs
from tickwork.exceptions import JobLookupError, RunFailedError
from tickwork.job import OPTIONS, Job
from tickwork.jobjson import job_to_json
from tickwork.run import Outcome
from tickwork.scheduler import Scheduler

#: ``add_job`` parameters that have options of their own.
_RESERVED = frozenset(
    {"id", "func", "trigger", "args", "kwargs", "name", "replace_existing", "jobstore", "timeout"}
)


@click.group(cls=TickworkGroup)
def jobs() -> None:
    """List, inspect, add, pause, resume, run and remove jobs."""


@jobs.command("list")
@with_store_options
@json_option
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many jobs.")
def list_jobs(as_json: bool, limit: int | None) -> None:
    """Every job, by id: trigger, next run (or paused) and function."""
    with open_scheduler() as scheduler:
        found = list(itertools.islice(scheduler.iter_jobs(), limit))
        if as_json:
            echo_json([job_to_json(job) for job in found])
            return
        rows = [
            (
                job.id,
                str(job.trigger),
                "BROKEN"
                if job.broken_reason
                else when(job.next_run_time, scheduler.timezone, "paused"),
                job.func_ref,
            )
            for job in found
        ]
        echo_table(("ID", "TRIGGER", "NEXT RUN", "FUNC"), rows, "no jobs")


@jobs.command("show")
@with_store_options
@json_option
@click.argument("job_id", metavar="ID")
def show_job(as_json: bool, job_id: str) -> None:
    """One job in full, with its five latest runs."""
    with open_scheduler() as scheduler:
        job = scheduler.get_job(job_id)
        if job is None:
            raise JobLookupError(job_id)
        if as_json:
            echo_json(job_to_json(job))
            return
        _echo_job(job, scheduler)
        click.echo("")
        echo_runs(scheduler.get_runs(job_id, limit=5), scheduler)


@jobs.command("add")
@with_store_options
@json_option
@click.argument("job_id", metavar="ID")
@click.argument("func")
@click.option(
    "--trigger",
    "-t",
    help="date (default: once, now), interval, cron, calendarinterval, and, or.",
)
@click.option(
    "--arg",
    "-a",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A trigger field (seconds=30, hour=9, run_date=...) or job option "
    "(max_instances=3, misfire_grace_time=60, coalesce=false); repeatable. "
    "VALUE is JSON when it parses, else text.",
)
@click.option("--args", "call_args", metavar="JSON", help="Positional arguments: a JSON array.")
@click.option("--kwargs", "call_kwargs", metavar="JSON", help="Keyword arguments: a JSON object.")
@click.option("--name", help="Readable name (default: the id).")
@click.option("--replace", is_flag=True, help="Replace a job with the same id.")
@click.option("--paused", is_flag=True, help="Add the job paused.")
@click.option(
    "--timeout",
    type=float,
    metavar="SECONDS",
    help="End each run still going after this many seconds as timed_out.",
)
def add_job(
    *,
    as_json: bool,
    job_id: str,
    func: str,
    trigger: str | None,
    options: tuple[str, ...],
    call_args: str | None,
    call_kwargs: str | None,
    name: str | None,
    replace: bool,
    paused: bool,
    timeout: float | None,
) -> None:
    """Add job ID calling FUNC ('package.module:function' or a task name).

    \b
    tickwork jobs add report myapp.jobs:report -t cron -a hour=9 -a minute=30
    tickwork jobs add ping myapp.jobs:ping -t interval -a seconds=30 --args '["a"]'
    """
    fields = parse_assignments(options, "--arg")
    reserved = sorted(set(fields) & _RESERVED)
    if reserved:
        raise click.BadParameter(f"{reserved[0]} has an option of its own", param_hint="--arg")
    if paused:
        fields["next_run_time"] = None
    if timeout is not None:
        fields["timeout"] = timeout
    args = parse_json(call_args, "--args", list)
    kwargs = parse_json(call_kwargs, "--kwargs", dict)
    with open_scheduler() as scheduler:
        job = scheduler.add_job(
            func,
            trigger=trigger,
            args=args,
            kwargs=kwargs,
            name=name if name is not None else job_id,
            replace_existing=replace,
            **fields,
            id=job_id,
        )
        if as_json:
            echo_json(job_to_json(job))
        else:
            click.echo(f"added job {job.id}: {job.trigger}, next run {_next(job, scheduler)}")


@jobs.command("pause")
@with_store_options
@json_option
@click.argument("job_id", metavar="ID")
@click.option("--note", metavar="TEXT", help="Why; shown with the job until it is resumed.")
def pause_job(as_json: bool, job_id: str, note: str | None) -> None:
    """Stop scheduling a job until it is resumed.

    \b
    tickwork jobs pause report --note "waiting for the database migration"
    """
    with open_scheduler() as scheduler:
        _report(scheduler.pause_job(job_id, note=note), scheduler, as_json, "paused")


@jobs.command("resume")
@with_store_options
@json_option
@click.argument("job_id", metavar="ID")
def resume_job(as_json: bool, job_id: str) -> None:
    """Schedule a paused job again, from now."""
    with open_scheduler() as scheduler:
        _report(scheduler.resume_job(job_id), scheduler, as_json, "resumed")


@jobs.command("remove")
@with_store_options
@json_option
@click.argument("job_id", metavar="ID")
def remove_job(as_json: bool, job_id: str) -> None:
    """Delete a job; its run history stays."""
    with open_scheduler() as scheduler:
        scheduler.remove_job(job_id)
        if as_json:
            echo_json({"id": job_id, "removed": True})
        else:
            click.echo(f"removed job {job_id}")


@jobs.command("run")
@with_store_options
@json_option
@click.argument("job_id", metavar="ID")
@click.option(
    "--args", "call_args", metavar="JSON", help="This run's positional arguments: a JSON array."
)
@click.option(
    "--kwargs", "call_kwargs", metavar="JSON", help="This run's keyword arguments: a JSON object."
)
def run_job(as_json: bool, job_id: str, call_args: str | None, call_kwargs: str | None) -> None:
    """Run a job now, in this process, and record the run in history.

    The job's schedule is unchanged. --args and --kwargs replace the job's own arguments
    for this run only (each left out: the job's). Exits with 1 when the job raised. While
    the job runs this process is a node of the cluster: killed, its run is marked lost by
    the others; stopped by SIGTERM or Ctrl+C, it records the run interrupted.

    \b
    tickwork jobs run report --args '["2026-11"]' --kwargs '{"dry_run": true}'
    """
    args = parse_json(call_args, "--args", list)
    kwargs = parse_json(call_kwargs, "--kwargs", dict)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        with open_scheduler() as scheduler:
            _run_now(scheduler, job_id, as_json, args, kwargs)
    except KeyboardInterrupt:
        raise RunFailedError(
            f"job {job_id} interrupted; its run is recorded as interrupted"
        ) from None
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM ends a manual run as Ctrl+C does."""
    raise KeyboardInterrupt


def _run_now(
    scheduler: Scheduler,
    job_id: str,
    as_json: bool,
    args: list[Any] | None,
    kwargs: dict[str, Any] | None,
) -> None:
    scheduler.run_job(job_id, args=args, kwargs=kwargs)
    run = next(r for r in scheduler.get_runs(job_id, limit=50) if r.manual)
    if as_json:
        echo_json(run.to_dict())
    else:
        duration = f" in {run.duration:.3f} s" if run.duration is not None else ""
        click.echo(f"ran job {job_id} (run {run.id}): {run.outcome.value}{duration}")
    if run.outcome is not Outcome.SUCCEEDED:
        raise RunFailedError(f"job {job_id} {run.outcome.value}: {run.error}")


def _next(job: Job, scheduler: Scheduler) -> str:
    return when(job.next_run_time, scheduler.timezone, "none (paused)")


def _report(job: Job, scheduler: Scheduler, as_json: bool, verb: str) -> None:
    if as_json:
        echo_json(job_to_json(job))
    else:
        click.echo(f"{verb} job {job.id}; next run {_next(job, scheduler)}")


def _echo_job(job: Job, scheduler: Scheduler) -> None:
    details: list[tuple[str, Any]] = [
        ("id", job.id),
        ("name", job.name),
        ("func", job.func_ref),
        ("args", list(job.args)),
        ("kwargs", job.kwargs),
        ("trigger", job.trigger),
        ("next run", _next(job, scheduler)),
        *((spec.label, getattr(job, spec.attr)) for spec in OPTIONS if spec.key != "name"),
    ]
    if job.broken_reason:
        details.append(
            ("BROKEN", f"{job.broken_reason} (since {when(job.broken_at, scheduler.timezone)})")
        )
    if job.paused_at is not None:
        details.append(("paused", _pause_text(job, scheduler)))
    width = max(len(label) for label, _ in details)
    for label, value in details:
        click.echo(f"{label + ':':<{width + 2}}{value}")


def _pause_text(job: Job, scheduler: Scheduler) -> str:
    """Why, by whom and since when the job is paused: ``why (by alice, since ...)``."""
    facts = [f"by {job.paused_by}"] if job.paused_by else []
    facts.append(f"since {when(job.paused_at, scheduler.timezone)}")
    reason = f"{job.paused_note} " if job.paused_note else ""
    return f"{reason}({', '.join(facts)})"


__all__ = ["jobs"]
