"""``tickwork import-apscheduler``: the command line face of :func:`import_apscheduler`.

Exit codes follow the rest of the CLI:

====  ==================================================================
0     every job converted (and added, unless ``--dry-run``)
1     some jobs could not be converted; the others were added unless
      ``--all-or-nothing`` or ``--dry-run``
2     bad input: source URL, missing table, APScheduler not installed;
      nothing was added
3     a database (source or tickwork's) cannot be read or written;
      nothing was added
====  ==================================================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from tickwork.cli.base import EXIT_FAILURE, as_cli_error
from tickwork.exceptions import TickworkError
from tickwork.importers.apscheduler import import_apscheduler
from tickwork.importers.apscheduler_store import DEFAULT_TABLE, display_url
from tickwork.importers.report import ImportReport
from tickwork.scheduler import Scheduler
from tickwork.store import DEFAULT_URL


@click.command("import-apscheduler")
@click.argument("source_url")
@click.option(
    "--table",
    default=DEFAULT_TABLE,
    show_default=True,
    help="APScheduler's job table (tablename), optionally schema.table.",
)
@click.option(
    "--database",
    "-d",
    envvar="TICKWORK_DATABASE_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="SQLAlchemy URL of tickwork's store (env TICKWORK_DATABASE_URL).",
)
@click.option("--dry-run", is_flag=True, help="Convert and report; write nothing.")
@click.option(
    "--replace-existing", is_flag=True, help="Overwrite tickwork jobs that have the same ids."
)
@click.option("--all-or-nothing", is_flag=True, help="Add nothing if any job cannot be converted.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_apscheduler_command(
    *,
    source_url: str,
    table: str,
    database: str,
    dry_run: bool,
    replace_existing: bool,
    all_or_nothing: bool,
    as_json: bool,
) -> None:
    """Import the jobs of an APScheduler 3 SQLAlchemy job store at SOURCE_URL.

    The job states are pickled: only import from a database you trust. Function
    references are imported to check them, so run this where your application's modules
    are importable. Needs APScheduler 3: pip install 'tickwork[apscheduler]'.
    """
    scheduler = None
    try:
        if not dry_run:
            scheduler = Scheduler(database)
        report = import_apscheduler(
            source_url,
            scheduler,
            table=table,
            dry_run=dry_run,
            replace_existing=replace_existing,
            all_or_nothing=all_or_nothing,
        )
    except TickworkError as exc:
        raise as_cli_error(exc) from None
    finally:
        if scheduler is not None:
            scheduler.close()
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "database": display_url(database)}, indent=2))
    else:
        _print_report(report, display_url(database))
    if not report.complete:
        raise click.exceptions.Exit(EXIT_FAILURE)


def _print_report(report: ImportReport, database: str) -> None:
    if report.dry_run:
        verb = "would be added"
    elif report.added:
        verb = "added"
    else:
        verb = "not added (--all-or-nothing)"
    click.echo(f"APScheduler store {report.source} (table {report.table}) -> {database}")
    if report.converted:
        click.echo(f"\nConverted jobs ({len(report.converted)}, {verb}):")
        rows = [
            (
                item.job.id,
                item.job.func_ref,
                str(item.job.trigger),
                item.job.next_run_time.isoformat() if item.job.next_run_time else "paused",
            )
            for item in report.converted
        ]
        _table(("ID", "FUNC", "TRIGGER", "NEXT RUN"), rows)
    if report.warnings:
        click.echo("\nWarnings:")
        _table(("ID", "WARNING"), report.warnings)
    if report.failed:
        click.echo(f"\nNot converted ({len(report.failed)}):")
        _table(("ID", "REASON"), [(item.id, item.reason) for item in report.failed])
    click.echo(f"\n{len(report.converted)} converted ({verb}), {len(report.failed)} not converted.")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]))
