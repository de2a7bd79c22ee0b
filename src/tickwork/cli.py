"""The ``tickwork`` command."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from tickwork import __version__
from tickwork.exceptions import TickworkError
from tickwork.scheduler import Scheduler
from tickwork.store import DEFAULT_URL, create_store
from tickwork.store.migrate import upgrade

DATABASE_OPTION = click.option(
    "--database",
    "-d",
    envvar="TICKWORK_DATABASE_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="SQLAlchemy URL of the store (env TICKWORK_DATABASE_URL).",
)


@click.group()
@click.version_option(__version__, prog_name="tickwork")
def main() -> None:
    """tickwork: a durable, cluster-safe job scheduler."""


@main.command()
@DATABASE_OPTION
@click.option("--timezone", default=None, help="Default zone for triggers (default: local).")
def serve(database: str, timezone: str | None) -> None:
    """Run a scheduler node until SIGINT or SIGTERM."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        scheduler = Scheduler(database, timezone=timezone)
        scheduler.start()
    except TickworkError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"received {signal.Signals(signum).name}, shutting down", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    click.echo(f"tickwork node {scheduler.node_id} running on {database}", err=True)
    stop.wait()
    scheduler.shutdown(wait=True)
    scheduler.close()


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@DATABASE_OPTION
def db_upgrade(database: str) -> None:
    """Migrate the database to the newest schema."""
    try:
        store = create_store(database)
        store.start()
        store.close()
    except TickworkError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("database is up to date")


__all__ = ["main", "upgrade"]
