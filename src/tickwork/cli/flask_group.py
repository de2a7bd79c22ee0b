"""``flask tickwork ...``: the tickwork commands on a Flask app's own scheduler.

Flask finds this group through the ``flask.commands`` entry point (pyproject.toml), so the
extension need not import the CLI, nor the ``tickwork`` command Flask.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from tickwork.cli.base import APP_SCHEDULER_KEY, TickworkGroup
from tickwork.cli.main import SHARED_COMMANDS
from tickwork.exceptions import ConfigurationError
from tickwork.scheduler import Scheduler


@click.group("tickwork", cls=TickworkGroup)
@click.pass_context
def flask_group(ctx: click.Context) -> None:
    """tickwork jobs, runs, nodes and pause state of this app's scheduler."""
    ctx.meta[APP_SCHEDULER_KEY] = lambda: _app_scheduler(ctx)


def _app_scheduler(ctx: click.Context) -> Scheduler:
    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    extension = app.extensions.get("tickwork")
    if extension is None:
        raise ConfigurationError("this Flask app does not use tickwork.flask.APScheduler")
    scheduler: Scheduler = extension.scheduler
    return scheduler


for command in SHARED_COMMANDS:
    flask_group.add_command(command)
