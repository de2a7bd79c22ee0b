"""The OpenAPI document stays true: routes and documented operations are the same set."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from jsonschema import Draft202012Validator

from tickwork.api import ROUTES
from tickwork.dashboard import DASHBOARD_PATH
from tickwork.flask import APScheduler

METHODS = {"GET", "POST", "PATCH", "DELETE", "PUT"}


def _registered(app: Flask, prefix: str) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.rule.startswith(prefix + DASHBOARD_PATH):
            continue  # the dashboard's pages are not part of the API
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        operations |= {(method, path) for method in (rule.methods or set()) & METHODS}
    return operations


def _documented(document: dict[str, object]) -> set[tuple[str, str]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_is_documented_and_every_documented_route_exists(
    app_and_scheduler: tuple[Flask, APScheduler],
) -> None:
    app, _ = app_and_scheduler
    document = app.test_client().get("/scheduler/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert _registered(app, "/scheduler") == _documented(document)


def test_operation_ids_are_the_endpoint_names(
    app_and_scheduler: tuple[Flask, APScheduler],
) -> None:
    app, _ = app_and_scheduler
    document = app.test_client().get("/scheduler/openapi.json").get_json()
    ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert {route.endpoint for route in ROUTES} | {"openapi"} <= ids


def test_every_schema_is_valid_json_schema(
    app_and_scheduler: tuple[Flask, APScheduler],
) -> None:
    app, _ = app_and_scheduler
    document = app.test_client().get("/scheduler/openapi.json").get_json()
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_the_document_follows_the_prefix(
    make_app: Callable[..., tuple[Flask, APScheduler]],
) -> None:
    app, _ = make_app(SCHEDULER_API_PREFIX="/ops/scheduler/")
    document = app.test_client().get("/ops/scheduler/openapi.json").get_json()
    assert _registered(app, "/ops/scheduler") == _documented(document)
