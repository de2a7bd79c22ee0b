"""Flask integration: ``from tickwork.flask import APScheduler`` replaces Flask-APScheduler."""

from tickwork.api.auth import HTTPBasicAuth, HTTPBearerAuth
from tickwork.flask.extension import APScheduler
from tickwork.flask.loading import recognise_flask
from tickwork.loading import register_app_kind
from tickwork.scheduler import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED

register_app_kind(recognise_flask)  # so `--app` may name the extension or its Flask app

__all__ = [
    "STATE_PAUSED",
    "STATE_RUNNING",
    "STATE_STOPPED",
    "APScheduler",
    "HTTPBasicAuth",
    "HTTPBearerAuth",
]
