"""Turning failures into ``{"error_message": ...}`` responses, in one place.

Every view of the REST API runs behind :func:`error_response`, so a client never sees an
HTML error page or a stack trace: tickwork's own exceptions map to 4xx codes by type, and
anything unexpected becomes a logged, generic 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from tickwork.exceptions import (
    CallableNotAllowedError,
    ConfigurationError,
    ConflictError,
    JobFinishedError,
    JobLookupError,
    MaxInstancesReachedError,
    NodeLookupError,
    SchedulerStateError,
    SchemaMismatchError,
    StoreError,
)

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API refuses before it reaches the scheduler.

    :param status: the HTTP status code.
    :param message: what is wrong, for people; it names the offending field.
    :param field: the offending field or parameter, for programs, when there is one.
    :param headers: sent with the response (``WWW-Authenticate``, ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response; plain :func:`json.dumps` is several times faster than Flask's provider."""
    body = json.dumps(data, separators=(",", ":"))
    return Response(body, status=status, headers=headers, mimetype="application/json")


def error_body(message: str, field: str | None = None) -> dict[str, str]:
    body = {"error_message": message}
    if field is not None:
        body["field"] = field
    return body


def error_response(exc: BaseException) -> Response:
    """The response for ``exc``: the single mapping from exceptions to status codes.

    Lookup and conflict messages are Flask-APScheduler's own, so clients that match on them
    keep working. Database failures are 503 (worth retrying); anything else is a bug, logged
    with its traceback and answered with a generic 500 that leaks nothing.
    """
    if isinstance(exc, ApiError):
        return json_response(error_body(exc.message, exc.field), exc.status, exc.headers)
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        return json_response(error_body(exc.description or exc.name), exc.code)
    if isinstance(exc, JobLookupError):
        return json_response(error_body(f"Job {exc.job_id} not found"), 404)
    if isinstance(exc, NodeLookupError):
        return json_response(error_body(f"Node {exc.node_id} not found"), 404)
    if isinstance(exc, ConflictError):
        return json_response(error_body(f"Job {exc.job_id} already exists."), 409)
    if isinstance(exc, MaxInstancesReachedError):
        return json_response(error_body(str(exc)), 409)
    if isinstance(exc, CallableNotAllowedError):
        return json_response(error_body(str(exc), "func"), 403)
    if isinstance(exc, JobFinishedError):
        return json_response(error_body(str(exc)), 409)
    if isinstance(exc, ConfigurationError):
        return json_response(error_body(str(exc), exc.field), 400)
    if isinstance(exc, SchedulerStateError):
        return json_response(error_body(str(exc)), 400)
    if isinstance(exc, SchemaMismatchError):
        logger.error("database schema mismatch", exc_info=exc)
        return json_response(error_body(f"database schema mismatch: {exc}"), 500)
    if isinstance(exc, StoreError):
        logger.error("store failure in REST API", exc_info=exc)
        return json_response(error_body("the database is unavailable, try again"), 503)
    logger.error("unexpected error in REST API", exc_info=exc)
    return json_response(error_body("internal server error"), 500)
