"""What every command shares: where the scheduler comes from, errors, and output.

Commands talk to the database through a :class:`~tickwork.Scheduler` that is never
started, so they work whether or not a server is running. Errors become one line on
stderr and an exit code, never a traceback:

====  ==================================================================
0     done
1     the thing does not exist or cannot be done now (unknown job or node,
      id taken, a run-now that failed)
2     bad input (options, trigger arguments, config file); nothing changed
3     the database cannot be reached
====  ==================================================================
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click

from tickwork.config import ServiceConfig, load_config
from tickwork.exceptions import (
    ConfigurationError,
    SchemaMismatchError,
    StoreError,
    TickworkError,
    TriggerArgumentError,
)
from tickwork.loading import LoadedApp
from tickwork.loading import open_scheduler as open_configured_scheduler
from tickwork.scheduler import Scheduler
from tickwork.store import DEFAULT_URL, MEMORY_URL

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3

F = TypeVar("F", bound=Callable[..., Any])
_OPTIONS_KEY = "tickwork.store_options"
#: Under ``flask tickwork``: a function giving the app's own scheduler (see
#: :mod:`tickwork.cli.flask_group`).
APP_SCHEDULER_KEY = "tickwork.app_scheduler"


class CliError(click.ClickException):
    """A failure reported as ``Error: message``; exit code 1."""

    exit_code = EXIT_FAILURE


class BadInput(CliError):
    """Bad options, arguments or config; nothing was changed. Exit code 2."""

    exit_code = EXIT_USAGE


class DatabaseDown(CliError):
    """The database failed or cannot be reached. Exit code 3."""

    exit_code = EXIT_DATABASE


#: The CLI error each type of tickwork error becomes, with its message; the most specific
#: type of an error decides (the exit codes are in the module's docstring).
CLI_ERRORS: dict[type[TickworkError], tuple[type[CliError], Callable[[Any], str]]] = {
    TickworkError: (CliError, str),
    ConfigurationError: (BadInput, str),
    TriggerArgumentError: (
        BadInput,
        lambda exc: f"invalid {exc.field}: {exc.reason} (got {exc.value!r})",
    ),
    StoreError: (DatabaseDown, lambda exc: f"database error: {exc}"),
    SchemaMismatchError: (DatabaseDown, str),
}


def as_cli_error(exc: TickworkError) -> CliError:
    """The message and exit code of one of tickwork's errors, by :data:`CLI_ERRORS`."""
    error, message = next(CLI_ERRORS[kind] for kind in type(exc).__mro__ if kind in CLI_ERRORS)
    return error(message(exc))


class TickworkGroup(click.Group):
    """A group whose commands report tickwork's errors as messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TickworkError as exc:
            raise as_cli_error(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("TICKWORK_DEBUG"):
                raise
            raise CliError(
                f"unexpected {type(exc).__name__}: {exc} (set TICKWORK_DEBUG=1 for the traceback)"
            ) from None


@dataclass
class StoreOptions:
    """Where to find the database and tasks, as given on the command line or environment."""

    database: str | None = None
    config: str | None = None
    app: str | None = None
    #: Whether the command may create a database that does not exist yet (``--create``).
    create: bool = False

    @property
    def explicit(self) -> bool:
        return any((self.database, self.config, self.app))


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value not in (None, False) and param.name is not None:
        setattr(store_options(ctx), param.name, value)


def store_options(ctx: click.Context) -> StoreOptions:
    options = ctx.meta.get(_OPTIONS_KEY)
    if options is None:
        options = ctx.meta[_OPTIONS_KEY] = StoreOptions()
    assert isinstance(options, StoreOptions)
    return options


def with_store_options(func: F) -> F:
    """Add ``--database``, ``--config`` and ``--app`` to a command."""
    decorators = [
        click.option(
            "--database",
            "-d",
            envvar="TICKWORK_DATABASE_URL",
            expose_value=False,
            callback=_remember,
            help=f"SQLAlchemy URL of the store (env TICKWORK_DATABASE_URL; default: the "
            f"config file's, else {DEFAULT_URL}).",
        ),
        click.option(
            "--config",
            "-c",
            envvar="TICKWORK_CONFIG",
            type=click.Path(dir_okay=False),
            expose_value=False,
            callback=_remember,
            help="TOML config file (env TICKWORK_CONFIG); see docs/configuration.md.",
        ),
        click.option(
            "--app",
            envvar="TICKWORK_APP",
            metavar="MODULE[:OBJ]",
            expose_value=False,
            callback=_remember,
            help="Module with your tasks: a tickwork Scheduler, or a Flask app using "
            "tickwork.flask.APScheduler (env TICKWORK_APP).",
        ),
        click.option(
            "--create",
            is_flag=True,
            expose_value=False,
            callback=_remember,
            help="Create the database if it does not exist (otherwise only `serve` and "
            "`db upgrade` do, so a mistyped path is an error).",
        ),
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


@contextmanager
def open_scheduler(*, create: bool = False) -> Iterator[Scheduler]:
    """The scheduler of the current command, its store open, closed afterwards.

    Under ``flask tickwork`` with none of the store options, it is the app's own scheduler.

    :param create: whether this command creates a missing database anyway (``db upgrade``);
        other commands do only with ``--create``.
    """
    ctx = click.get_current_context()
    options = store_options(ctx)
    app_scheduler = None if options.explicit else ctx.meta.get(APP_SCHEDULER_KEY)
    if app_scheduler is not None:
        own: Scheduler = app_scheduler()
        refuse_ephemeral(own)
        own.open_store(create=create or options.create)
        yield own
        return
    with open_configured() as (_, scheduler, _loaded):
        scheduler.open_store(create=create or options.create)
        yield scheduler


@contextmanager
def open_configured() -> Iterator[tuple[ServiceConfig, Scheduler, LoadedApp | None]]:
    """The config file, the scheduler it describes and the ``--app`` object, if any."""
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` and `flask` do: ./myjobs.py is importable
    options = store_options(click.get_current_context())
    config = load_config(options.config)
    scheduler, loaded = open_configured_scheduler(
        config, database=options.database, app=options.app
    )
    try:
        refuse_ephemeral(scheduler)
        yield config, scheduler, loaded
    finally:
        scheduler.close()


def refuse_ephemeral(scheduler: Scheduler) -> None:
    """Refuse an in-memory database: a command would work on an empty database of its own,
    and a server would lose every job when it stops."""
    if scheduler.store.ephemeral:
        raise ConfigurationError(
            f"the database is in memory ({MEMORY_URL}): it lives inside one process and is "
            "lost when that ends, so `tickwork serve` and the commands cannot use it; give "
            "a SQLite file (sqlite:///path) or a PostgreSQL URL",
            field="database",
        )


# -- output ------------------------------------------------------------------------------------

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> None:
    """Aligned columns; the last column is not padded."""
    if not rows:
        click.echo(empty)
        return
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


def when(moment: datetime | None, zone: tzinfo, missing: str = "-") -> str:
    """A datetime for people: seconds precision, in the scheduler's zone."""
    if moment is None:
        return missing
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def shorten(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def parse_value(text: str) -> Any:
    """JSON when it parses (``30``, ``true``, ``[1, 2]``, ``"9"``), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_assignments(values: Sequence[str], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` options into a dict, values parsed by :func:`parse_value`."""
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
        if key in parsed:
            raise click.BadParameter(f"{key} is given twice", param_hint=option)
        parsed[key] = parse_value(value)
    return parsed


def parse_json(text: str | None, option: str, kind: type) -> Any:
    """A JSON option that must hold a ``kind`` (list or dict)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None
    if not isinstance(value, kind):
        expected = "an array" if kind is list else "an object"
        raise click.BadParameter(f"must be a JSON {expected}", param_hint=option)
    return value
