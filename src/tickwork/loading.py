"""Finding the user's code and the scheduler a command works on.

A command needs the user's tasks (callables registered with ``@scheduler.task``) and maybe
a whole Flask app using :class:`tickwork.flask.APScheduler`. ``--app module:obj`` may name
a :class:`~tickwork.Scheduler`, the extension, a Flask app, or a factory called without
arguments that returns one of them. With only ``module`` the usual names are looked up.

This module sits below the CLI and the server and imports neither Flask nor the HTTP
stack, so ``tickwork jobs list`` starts quickly. Integrations register how to find the
scheduler in their objects (:func:`register_app_kind`); ``tickwork.flask`` does so when it
is imported, which it must have been for one of its objects to exist.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tickwork.config import ServiceConfig
from tickwork.exceptions import ConfigurationError
from tickwork.refs import import_ref
from tickwork.scheduler import Scheduler

if TYPE_CHECKING:
    from flask import Flask

#: Looked up in this order when ``--app`` names only a module.
DEFAULT_NAMES = ("scheduler", "app", "application", "create_app", "make_app")


@dataclass(frozen=True)
class LoadedApp:
    """What ``--app`` gave: the scheduler, plus the Flask app when there is one."""

    scheduler: Scheduler
    flask_app: Flask | None = None


#: Says what an object of an integration is: a :class:`LoadedApp`, or ``None`` when the
#: object is not of its kind; raises :class:`ConfigurationError` when it is, but unusable.
AppKind = Callable[[object], LoadedApp | None]
_APP_KINDS: list[AppKind] = []


def register_app_kind(recognise: AppKind) -> None:
    """Let ``--app`` name objects of an integration (``tickwork.flask`` registers one)."""
    if recognise not in _APP_KINDS:
        _APP_KINDS.append(recognise)


def open_scheduler(
    config: ServiceConfig, *, database: str | None = None, app: str | None = None
) -> tuple[Scheduler, LoadedApp | None]:
    """The scheduler a command works on, not started.

    Shared by every command, so ``tickwork jobs list --config FILE`` sees the same database
    and tasks as ``tickwork serve --config FILE``.

    :param database: a database URL given on the command line (or its variable); it wins
        over the config file's.
    :param app: ``module:obj`` given on the command line; it wins over the file's ``app``.
    :raises ConfigurationError: for settings that contradict each other, e.g. a database
        together with an app whose scheduler already names one.
    """
    app_ref = app or config.app
    loaded = None
    if app_ref:
        loaded = load_app(app_ref)
        scheduler = loaded.scheduler
        clashes = list(config.builds_scheduler)
        if database is not None:
            clashes.insert(0, "--database")
        if clashes:
            raise ConfigurationError(
                f"{', '.join(clashes)} cannot be used with --app {app_ref}: its scheduler "
                "is already built with its own database and options"
            )
        registry = scheduler.registry
        registry.allowed_patterns = registry.allowed_patterns + config.allowed_callables
    else:
        scheduler = Scheduler(
            database or config.database,
            timezone=config.timezone,
            executors=dict(config.executors),
            job_defaults=config.job_defaults,
            allowed_callables=config.allowed_callables,
            settings=config.engine,
        )
    for name, ref in config.tasks.items():
        try:
            scheduler.registry.register(import_ref(ref), name)
        except ConfigurationError as exc:
            raise ConfigurationError(f"tasks.{name}: {exc}") from None
    return scheduler, loaded


def load_app(ref: str) -> LoadedApp:
    """Import ``module[:obj]`` and classify what it names.

    The working directory is put on ``sys.path`` first (as ``flask`` does), so
    ``--app myapp`` finds ``./myapp.py`` whichever way tickwork was installed.

    :raises ConfigurationError: the module cannot be imported or names nothing usable.
    """
    module_name, _, attribute = ref.partition(":")
    if not module_name:
        raise ConfigurationError(f"--app {ref!r} must be 'module' or 'module:object'")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"--app {ref!r}: cannot import {module_name}: {exc}") from None
    names = (attribute,) if attribute else DEFAULT_NAMES
    for name in names:
        target = getattr(module, name, None)
        if target is not None:
            return _classify(ref, target)
    if attribute:
        raise ConfigurationError(f"--app {ref!r}: module {module_name} has no {attribute!r}")
    raise ConfigurationError(
        f"--app {ref!r}: module {module_name} has none of {', '.join(DEFAULT_NAMES)}; "
        "name the scheduler or app as 'module:object'"
    )


def _classify(ref: str, target: Any, *, called: bool = False) -> LoadedApp:
    if isinstance(target, Scheduler):
        return LoadedApp(target)
    for recognise in _APP_KINDS:
        try:
            loaded = recognise(target)
        except ConfigurationError as exc:
            raise ConfigurationError(f"--app {ref!r}: {exc}") from None
        if loaded is not None:
            return loaded
    if callable(target) and not called:
        try:
            made = target()
        except TypeError as exc:
            raise ConfigurationError(
                f"--app {ref!r}: the factory must take no arguments ({exc})"
            ) from None
        return _classify(ref, made, called=True)
    raise ConfigurationError(
        f"--app {ref!r} is a {type(target).__name__}; expected a tickwork Scheduler, an "
        "APScheduler extension, a Flask app using it, or a factory returning one"
    )
