"""The REST API: Flask-APScheduler 1.13's routes and job JSON, the scheduler service spec,
nodes, run history, auth and an OpenAPI 3.1 document.

:func:`install_api` adds the routes to any Flask app; the Flask extension
(:class:`tickwork.flask.APScheduler`) calls it for ``SCHEDULER_API_ENABLED``, and a
standalone server can too (after :func:`check_exposure`).
"""

from tickwork.api.auth import ApiAuth, Authorization, HTTPBasicAuth, HTTPBearerAuth
from tickwork.api.context import ApiContext
from tickwork.api.errors import error_response
from tickwork.api.exposure import check_exposure, is_loopback
from tickwork.api.install import ROUTES, Route, install_api
from tickwork.api.openapi import build_openapi
from tickwork.jobjson import job_to_json

__all__ = [
    "ROUTES",
    "ApiAuth",
    "ApiContext",
    "Authorization",
    "HTTPBasicAuth",
    "HTTPBearerAuth",
    "Route",
    "build_openapi",
    "check_exposure",
    "error_response",
    "install_api",
    "is_loopback",
    "job_to_json",
]
