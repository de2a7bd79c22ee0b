"""Turning failures into ``{"error_message": ...}`` responses, in one place.

Every view of the REST API runs behind :func:`error_response`, so a client never sees an
HTML error page or a stack trace. The API raises only tickwork's own errors
(:mod:`tickwork.exceptions`); :data:`RULES` says, per error type, which status code it
gets, and the most specific type of an error decides. Anything unexpected becomes a
logged, generic 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response
from werkzeug.exceptions import HTTPException

from tickwork.exceptions import (
    AuthenticationError,
    CallableNotAllowedError,
    ConfigurationError,
    ConflictError,
    JobFinishedError,
    JobLookupError,
    MaxInstancesReachedError,
    NodeLookupError,
    OriginRefusedError,
    SchedulerStateError,
    SchemaMismatchError,
    StoreError,
    TickworkError,
    TooManyAttemptsError,
    UnsupportedMediaTypeError,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rule:
    """How the API answers one type of error.

    :param status: the HTTP status code.
    :param message: the ``error_message`` (default: the error's text).
    :param headers: headers to send with it.
    :param log: log the error with its traceback under this text (server-side failures).
    """

    status: int
    message: Callable[[Any], str] = str
    headers: Callable[[Any], dict[str, str]] = field(default=lambda exc: {})
    log: str | None = None


#: Status of each error type. Lookup and conflict messages are Flask-APScheduler's own, so
#: clients that match on them keep working; database failures are 503 (worth retrying).
RULES: dict[type[TickworkError], Rule] = {
    ConfigurationError: Rule(400),
    UnsupportedMediaTypeError: Rule(415),
    CallableNotAllowedError: Rule(403),
    AuthenticationError: Rule(401, headers=lambda exc: {"WWW-Authenticate": exc.challenge}),
    TooManyAttemptsError: Rule(429, headers=lambda exc: {"Retry-After": str(exc.retry_after)}),
    OriginRefusedError: Rule(403),
    JobLookupError: Rule(404, message=lambda exc: f"Job {exc.job_id} not found"),
    NodeLookupError: Rule(404, message=lambda exc: f"Node {exc.node_id} not found"),
    ConflictError: Rule(409, message=lambda exc: f"Job {exc.job_id} already exists."),
    JobFinishedError: Rule(409),
    SchedulerStateError: Rule(400),
    MaxInstancesReachedError: Rule(409),
    SchemaMismatchError: Rule(
        500, message=lambda exc: f"database schema mismatch: {exc}", log="database schema mismatch"
    ),
    StoreError: Rule(
        503,
        message=lambda exc: "the database is unavailable, try again",
        log="store failure in REST API",
    ),
}


def rule_for(exc: TickworkError) -> Rule | None:
    """The rule of ``exc``'s most specific type that has one."""
    for kind in type(exc).__mro__:
        rule = RULES.get(kind)
        if rule is not None:
            return rule
    return None


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
    """The response for ``exc``, by :data:`RULES`; anything else is a bug, logged with its
    traceback and answered with a generic 500 that leaks nothing."""
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        return json_response(error_body(exc.description or exc.name), exc.code)
    rule = rule_for(exc) if isinstance(exc, TickworkError) else None
    if rule is None:
        logger.error("unexpected error in REST API", exc_info=exc)
        return json_response(error_body("internal server error"), 500)
    if rule.log is not None:
        logger.error(rule.log, exc_info=exc)
    field_name = getattr(exc, "field", None)
    return json_response(error_body(rule.message(exc), field_name), rule.status, rule.headers(exc))
