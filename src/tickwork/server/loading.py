"""Finding the user's code: ``--app module:obj`` names a scheduler or a Flask app.

A service needs the user's tasks (callables registered with ``@scheduler.task``) and maybe
a whole Flask app using :class:`tickwork.flask.APScheduler`. ``module:obj`` may name a
:class:`~tickwork.Scheduler`, the extension, a Flask app, or a factory called without
arguments that returns one of them. With only ``module`` the usual names are looked up.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from tickwork.exceptions import ConfigurationError
from tickwork.flask import APScheduler
from tickwork.scheduler import Scheduler

#: Looked up in this order when ``--app`` names only a module.
DEFAULT_NAMES = ("scheduler", "app", "application", "create_app", "make_app")


@dataclass(frozen=True)
class LoadedApp:
    """What ``--app`` gave: the scheduler, plus the Flask app when there is one."""

    scheduler: Scheduler
    flask_app: Flask | None = None
    extension: APScheduler | None = None


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
    if isinstance(target, APScheduler):
        if target.app is None:
            raise ConfigurationError(f"--app {ref!r}: the extension has no app; call init_app")
        return LoadedApp(target.scheduler, target.app, target)
    if isinstance(target, Flask):
        extension = target.extensions.get("tickwork")
        if not isinstance(extension, APScheduler):
            raise ConfigurationError(
                f"--app {ref!r}: the Flask app does not use tickwork.flask.APScheduler"
            )
        return LoadedApp(extension.scheduler, target, extension)
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
