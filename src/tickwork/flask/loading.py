"""How ``--app`` finds the scheduler in a Flask app or in the extension itself."""

from __future__ import annotations

from flask import Flask

from tickwork.exceptions import ConfigurationError
from tickwork.flask.extension import APScheduler
from tickwork.loading import LoadedApp


def recognise_flask(target: object) -> LoadedApp | None:
    """The extension or a Flask app using it; ``None`` for anything else.

    :raises ConfigurationError: an extension without an app, or an app without it.
    """
    if isinstance(target, APScheduler):
        if target.app is None:
            raise ConfigurationError("the extension has no app; call init_app")
        return LoadedApp(target.scheduler, target.app)
    if isinstance(target, Flask):
        extension = target.extensions.get("tickwork")
        if not isinstance(extension, APScheduler):
            raise ConfigurationError("the Flask app does not use tickwork.flask.APScheduler")
        return LoadedApp(extension.scheduler, target)
    return None
