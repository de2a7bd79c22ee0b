"""Registering the REST API's routes on a Flask app.

Routes are added to the app itself, not through a blueprint, because Flask-APScheduler's
endpoint names (``SCHEDULER_ENDPOINT_PREFIX`` + ``get_job``, e.g. ``scheduler.get_job``)
must stay valid for ``url_for``, and a configurable prefix may contain any text. Every
view runs behind one guard that refuses cross-site writes, checks auth and maps errors, so no
view deals with any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response

from tickwork.api import views_history, views_jobs, views_scheduler
from tickwork.api.context import ApiContext
from tickwork.api.csrf import check_host, check_write
from tickwork.api.errors import error_body, error_response, json_response
from tickwork.api.openapi import build_openapi
from tickwork.exceptions import ConfigurationError

View = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    """One operation: endpoint name (without prefix), rules below the prefix, method, view."""

    endpoint: str
    rules: tuple[str, ...]
    method: str
    view: View


#: Every operation of the API, Flask-APScheduler's first, in its order.
ROUTES: tuple[Route, ...] = (
    Route("get_scheduler_info", ("", "/"), "GET", views_scheduler.get_scheduler_info),
    Route("pause_scheduler", ("/pause",), "POST", views_scheduler.pause_scheduler),
    Route("resume_scheduler", ("/resume",), "POST", views_scheduler.resume_scheduler),
    Route("start_scheduler", ("/start",), "POST", views_scheduler.start_scheduler),
    Route("shutdown_scheduler", ("/shutdown",), "POST", views_scheduler.shutdown_scheduler),
    Route("add_job", ("/jobs",), "POST", views_jobs.add_job),
    Route("get_job", ("/jobs/<job_id>",), "GET", views_jobs.get_job),
    Route("get_jobs", ("/jobs",), "GET", views_jobs.get_jobs),
    Route("delete_job", ("/jobs/<job_id>",), "DELETE", views_jobs.delete_job),
    Route("update_job", ("/jobs/<job_id>",), "PATCH", views_jobs.update_job),
    Route("pause_job", ("/jobs/<job_id>/pause",), "POST", views_jobs.pause_job),
    Route("resume_job", ("/jobs/<job_id>/resume",), "POST", views_jobs.resume_job),
    Route("run_job", ("/jobs/<job_id>/run",), "POST", views_jobs.run_job),
    Route("update_scheduler", ("", "/"), "PATCH", views_scheduler.update_scheduler),
    Route("get_job_runs", ("/jobs/<job_id>/runs",), "GET", views_history.get_job_runs),
    Route("get_runs", ("/runs",), "GET", views_history.get_runs),
    Route("get_nodes", ("/nodes",), "GET", views_history.get_nodes),
    Route("get_node", ("/nodes/<node_id>",), "GET", views_history.get_node),
    Route("update_node", ("/nodes/<node_id>",), "PATCH", views_history.update_node),
)

#: The OpenAPI document's route; public, so tools can discover the API before auth.
OPENAPI_ENDPOINT = "openapi"
OPENAPI_RULE = "/openapi.json"


def install_api(
    app: Flask, ctx: ApiContext, *, prefix: str = "/scheduler", endpoint_prefix: str = ""
) -> None:
    """Add every route of the API to ``app`` under ``prefix``.

    ``prefix`` and ``prefix + "/"`` both answer ``GET`` and ``PATCH`` directly: the first is
    Flask-APScheduler's path, the second the scheduler service spec's, and a redirect would
    turn a client's PATCH into a GET.

    :raises ConfigurationError: for an empty prefix or one not starting with ``/``.
    """
    if not prefix or not prefix.startswith("/") or prefix == "/":
        raise ConfigurationError(f"the API prefix must be a path like '/scheduler', got {prefix!r}")
    prefix = prefix.rstrip("/")
    for route in ROUTES:
        guarded = _guard(ctx, route.view)
        for rule in route.rules:
            app.add_url_rule(
                prefix + rule,
                endpoint_prefix + route.endpoint,
                guarded,
                methods=[route.method],
                strict_slashes=True,
            )
    document = build_openapi(prefix, auth=ctx.auth)
    app.add_url_rule(
        prefix + OPENAPI_RULE,
        endpoint_prefix + OPENAPI_ENDPOINT,
        lambda: json_response(document),
        methods=["GET"],
    )


def _guard(ctx: ApiContext, view: View) -> Callable[..., Response]:
    """Wrap ``view``: refuse a rebindable ``Host`` without auth and foreign or non-JSON
    writes (403/415) before any auth work, then 401/429 unless authenticated, then map any
    exception to its response."""

    def guarded(**path: Any) -> Response:
        try:
            check_host(ctx.allowed_origins, auth_enabled=ctx.auth.enabled)
            check_write(ctx.allowed_origins)
            ctx.auth.require()
            ctx.note_request()
            if any("\x00" in value for value in path.values()):
                # No stored id can hold NUL, and PostgreSQL refuses it even in a lookup.
                return json_response(error_body("not found"), 404)
            return view(ctx, **path)
        except Exception as exc:
            return error_response(exc)

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    return guarded
