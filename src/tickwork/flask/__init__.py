"""Flask integration: ``from tickwork.flask import APScheduler`` replaces Flask-APScheduler."""

from tickwork.api.auth import HTTPBasicAuth, HTTPBearerAuth
from tickwork.flask.extension import APScheduler
from tickwork.scheduler import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED

__all__ = [
    "STATE_PAUSED",
    "STATE_RUNNING",
    "STATE_STOPPED",
    "APScheduler",
    "HTTPBasicAuth",
    "HTTPBearerAuth",
]
