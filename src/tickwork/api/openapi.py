"""The OpenAPI 3.1 document of the REST API, built for the prefix it is served under.

A test keeps it true: the routes registered on an app and the operations documented here
must be the same set, and every response the tests see must match its schema.
"""

from __future__ import annotations

from typing import Any

from tickwork._version import __version__
from tickwork.api.auth import ApiAuth
from tickwork.api.csrf import UNSAFE_METHODS
from tickwork.api.openapi_schemas import OUTCOMES, SCHEMAS

_ID_PATTERN = "^[^/\\x00]+$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_NO_CONTENT = {"204": {"description": "Done."}}
_BAD = {"400": _error("Invalid input; `error_message` names the field.")}
_NO_JOB = {"404": _error("No job with that id.")}
_NO_NODE = {"404": _error("No node with that id.")}
_NOT_ALLOWED = {
    "403": _error(
        "func is neither a registered task nor allow-listed, or the job's current func is "
        "not, so what it calls cannot change; `field` names the field."
    )
}
_NEXT_LINK = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"`, while more items follow.',
        "schema": {"type": "string"},
    }
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}
_LOCATION = {"Location": {"description": "The updated resource.", "schema": {"type": "string"}}}


def _path_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "pattern": _ID_PATTERN},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


_LIMIT = _query(
    "limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size (default 100)."
)
_RUN_FILTERS = [
    _LIMIT,
    _query("before", {"type": "integer", "minimum": 1}, "Only runs with a smaller id (cursor)."),
    _query(
        "outcome",
        {"type": "string", "enum": OUTCOMES},
        "Only runs with this outcome.",
    ),
    _query("node_id", {"type": "string", "minLength": 1}, "Only runs of this node."),
]


def _body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _operations() -> dict[str, dict[str, dict[str, Any]]]:
    """Paths below the prefix → method → operation, with Flask-APScheduler's endpoint names."""
    job = _json(_ref("Job"), "The job.")
    scheduler = _json(_ref("Scheduler"), "The scheduler.")
    job_path = [_path_param("job_id")]
    node_path = [_path_param("node_id")]
    pause_patch = _body(_ref("PausePatch"))
    updated_scheduler = {"201": {**scheduler, "headers": _LOCATION}}
    info: dict[str, dict[str, Any]] = {
        "get": {"operationId": "get_scheduler_info", "responses": {"200": scheduler}},
        "patch": {
            "operationId": "update_scheduler",
            "requestBody": pause_patch,
            "responses": {**updated_scheduler, **_BAD},
        },
    }
    return {
        "": info,
        "/": {key: {**op, "operationId": op["operationId"] + "_slash"} for key, op in info.items()},
        "/pause": {"post": {"operationId": "pause_scheduler", "responses": _NO_CONTENT}},
        "/resume": {"post": {"operationId": "resume_scheduler", "responses": _NO_CONTENT}},
        "/start": {
            "post": {"operationId": "start_scheduler", "responses": {**_NO_CONTENT, **_BAD}}
        },
        "/shutdown": {
            "post": {
                "operationId": "shutdown_scheduler",
                "requestBody": _body(_ref("Shutdown"), required=False),
                "responses": {**_NO_CONTENT, **_BAD},
            }
        },
        "/jobs": {
            "get": {
                "operationId": "get_jobs",
                "description": (
                    "Without `limit` and `after`: every job by next run time, as "
                    "Flask-APScheduler. With either: a page ordered by id."
                ),
                "parameters": [
                    _LIMIT,
                    _query("after", {"type": "string", "minLength": 1}, "Jobs after this id."),
                ],
                "responses": {
                    "200": {
                        **_json({"type": "array", "items": _ref("Job")}, "The jobs."),
                        "headers": _NEXT_LINK,
                    },
                    **_BAD,
                },
            },
            "post": {
                "operationId": "add_job",
                "requestBody": _body(_ref("JobInput")),
                "responses": {
                    "200": job,
                    **_BAD,
                    **_NOT_ALLOWED,
                    "409": _error("A job with that id exists."),
                },
            },
        },
        "/jobs/{job_id}": {
            "get": {
                "operationId": "get_job",
                "parameters": job_path,
                "responses": {"200": job, **_NO_JOB},
            },
            "delete": {
                "operationId": "delete_job",
                "parameters": job_path,
                "responses": {**_NO_CONTENT, **_NO_JOB},
            },
            "patch": {
                "operationId": "update_job",
                "parameters": job_path,
                "requestBody": _body(_ref("JobPatch")),
                "responses": {"200": job, **_BAD, **_NOT_ALLOWED, **_NO_JOB},
            },
        },
        "/jobs/{job_id}/pause": {
            "post": {
                "operationId": "pause_job",
                "description": (
                    "Pauses the job; the note, who paused (`paused_by`) and when "
                    "(`paused_at`) stay on the job until it is resumed."
                ),
                "parameters": job_path,
                "requestBody": _body(_ref("PauseRequest"), required=False),
                "responses": {"200": job, **_BAD, **_NO_JOB},
            }
        },
        "/jobs/{job_id}/resume": {
            "post": {
                "operationId": "resume_job",
                "parameters": job_path,
                "responses": {
                    "200": _json(
                        {"oneOf": [_ref("Job"), {"type": "null"}]},
                        "The job, or null when its schedule had no fire time left and it "
                        "was removed (as Flask-APScheduler).",
                    ),
                    **_NO_JOB,
                },
            }
        },
        "/jobs/{job_id}/run": {
            "post": {
                "operationId": "run_job",
                "description": (
                    "Runs now through the executor, with the job's arguments or the "
                    "body's; recorded in the run history with who asked."
                ),
                "parameters": job_path,
                "requestBody": _body(_ref("RunRequest"), required=False),
                "responses": {
                    "200": job,
                    **_BAD,
                    **_NOT_ALLOWED,
                    **_NO_JOB,
                    "409": _error("The job already has max_instances runs running."),
                },
            }
        },
        "/jobs/{job_id}/runs": {
            "get": {
                "operationId": "get_job_runs",
                "parameters": job_path + _RUN_FILTERS,
                "responses": {"200": _runs_response(), **_BAD, **_NO_JOB},
            }
        },
        "/runs": {
            "get": {
                "operationId": "get_runs",
                "parameters": [
                    *_RUN_FILTERS,
                    _query("job_id", {"type": "string", "minLength": 1}, "Only this job."),
                ],
                "responses": {"200": _runs_response(), **_BAD},
            }
        },
        "/nodes": {
            "get": {
                "operationId": "get_nodes",
                "parameters": [
                    _query(
                        "include_stopped",
                        {"type": "boolean"},
                        "Also list stopped and dead nodes.",
                    )
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Node")}, "The nodes."),
                    **_BAD,
                },
            }
        },
        "/nodes/{node_id}": {
            "get": {
                "operationId": "get_node",
                "parameters": node_path,
                "responses": {"200": _json(_ref("Node"), "The node."), **_NO_NODE},
            },
            "patch": {
                "operationId": "update_node",
                "parameters": node_path,
                "requestBody": pause_patch,
                "responses": {
                    "201": {**_json(_ref("Node"), "The updated node."), "headers": _LOCATION},
                    **_BAD,
                    **_NO_NODE,
                },
            },
        },
    }


def _runs_response() -> dict[str, Any]:
    runs = _json({"type": "array", "items": _ref("Run")}, "Runs, newest first.")
    return {**runs, "headers": _NEXT_LINK}


def build_openapi(prefix: str, *, auth: ApiAuth | None = None) -> dict[str, Any]:
    """The document for an API mounted at ``prefix``; with auth on, 401s and security too.

    Writes may also answer 403 (another origin) and 415 (not JSON), see
    :mod:`tickwork.api.csrf`; with auth, 429 while a client must wait after failures.
    """
    paths: dict[str, dict[str, Any]] = {}
    for path, operations in _operations().items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses["503"] = _error("The database is unavailable; retry.")
            if auth is not None and auth.enabled:
                responses["401"] = _error("Missing or wrong credentials.")
                responses["429"] = {
                    **_error("Too many failed sign-ins from this address."),
                    "headers": _RETRY_AFTER,
                }
            if method.upper() in UNSAFE_METHODS:
                responses["415"] = _error("A body not sent as `application/json`.")
                cross_origin = "The request came from another origin (CSRF)."
                if "403" in responses:
                    cross_origin = f"{responses['403']['description']} Or: {cross_origin}"
                responses["403"] = _error(cross_origin)
        paths[prefix + path] = operations
    paths[prefix + "/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "This document.")},
        }
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "tickwork",
            "version": __version__,
            "description": "Flask-APScheduler 1.13's REST API, plus the scheduler service, "
            "nodes, run history and pagination.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
    if auth is not None and auth.enabled:
        document["components"]["securitySchemes"] = {
            "basic": {"type": "http", "scheme": "basic"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        document["security"] = [{"basic": []}, {"bearer": []}]
    return document
