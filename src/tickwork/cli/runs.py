"""``tickwork runs``: run history, newest first."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from tickwork.cli.base import (
    echo_json,
    echo_table,
    json_option,
    open_scheduler,
    shorten,
    when,
    with_store_options,
)
from tickwork.run import Outcome, Run
from tickwork.scheduler import Scheduler


@click.command("runs")
@with_store_options
@json_option
@click.option("--job", "job_id", metavar="ID", help="Only this job's runs.")
@click.option(
    "--outcome", type=click.Choice([outcome.value for outcome in Outcome]), help="Only these."
)
@click.option("--node", "node_id", metavar="NODE", help="Only runs claimed by this node.")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Runs shown."
)
@click.option(
    "--before", type=int, metavar="RUN", help="Only runs older than this run id (next page)."
)
def runs(
    *,
    as_json: bool,
    job_id: str | None,
    outcome: str | None,
    node_id: str | None,
    limit: int,
    before: int | None,
) -> None:
    """Run history, newest first: outcome, duration and error of each run."""
    with open_scheduler() as scheduler:
        found = scheduler.get_runs(
            job_id, outcome=outcome, node_id=node_id, before=before, limit=limit
        )
        if as_json:
            echo_json([run.to_dict() for run in found])
        else:
            echo_runs(found, scheduler)


def echo_runs(found: Sequence[Run], scheduler: Scheduler) -> None:
    rows = [
        (
            str(run.id),
            run.job_id,
            when(run.scheduled_time, scheduler.timezone),
            run.outcome.value
            + (" (now)" if run.manual else "")
            + (f" (+{run.coalesced} coalesced)" if run.coalesced else ""),
            f"{run.duration:.3f}s" if run.duration is not None else "-",
            run.node_id or "-",
            shorten(run.error),
            _request(run),
        )
        for run in found
    ]
    header = ("RUN", "JOB", "SCHEDULED", "OUTCOME", "TOOK", "NODE", "ERROR", "REQUEST")
    echo_table(header, rows, "no runs")


def _request(run: Run) -> str:
    """What a run-now asked for beyond the job: who, and its own arguments."""
    parts = [f"by {run.requested_by}"] if run.requested_by else []
    for name, value in (("args", run.args), ("kwargs", run.kwargs)):
        if value is not None:
            parts.append(f"{name}={json.dumps(value, ensure_ascii=False)}")
    return shorten(" ".join(parts), 50) or "-"


__all__ = ["echo_runs", "runs"]
