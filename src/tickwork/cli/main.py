"""The ``tickwork`` command."""

from __future__ import annotations

import click

from tickwork._version import __version__
from tickwork.cli.base import TickworkGroup, json_option, open_scheduler, with_store_options
from tickwork.cli.cluster import nodes, pause, resume
from tickwork.cli.import_apscheduler import import_apscheduler_command
from tickwork.cli.jobs import jobs
from tickwork.cli.runs import runs
from tickwork.cli.serve import serve


@click.group(cls=TickworkGroup)
@click.version_option(__version__, prog_name="tickwork")
def main() -> None:
    """tickwork: a durable, cluster-safe job scheduler.

    Every command but serve works on the database directly, so it works whether or not a
    server is running. Exit codes: 1 not found or failed, 2 bad input, 3 database down.
    """


@click.group(cls=TickworkGroup)
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@with_store_options
@json_option
def db_upgrade(as_json: bool) -> None:
    """Migrate the database to the newest schema (also done by every other command)."""
    with open_scheduler(create=True):
        pass  # opening the store migrates it
    if as_json:
        click.echo('{"upgraded": true}')
    else:
        click.echo("database is up to date")


#: The commands that ``flask tickwork`` offers too (:mod:`tickwork.cli.flask_group`); not
#: ``serve``: a Flask app is served by its own WSGI server and starts its scheduler itself.
SHARED_COMMANDS = (jobs, runs, nodes, pause, resume, db)

for command in SHARED_COMMANDS:
    main.add_command(command)
main.add_command(serve)
main.add_command(import_apscheduler_command, "import-apscheduler")
