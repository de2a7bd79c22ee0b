"""Schemathesis fuzzes every documented operation: no 5xx, every response matches."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

from tests.api.conftest import build_app

pytestmark = pytest.mark.slow

MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

#: What the issue asks: no 5xx, and every response as documented. Schemathesis's
#: positive/negative data checks are left out: a schema-valid body can still be refused
#: (a trigger field that does not exist, shutdown while stopped), and that is correct.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def fuzzed_app(sqlite_url: str) -> Iterator[Flask]:
    app, extension = build_app(sqlite_url)
    yield app
    extension.scheduler.close()


def test_schemathesis_finds_no_server_errors_and_no_schema_violations(fuzzed_app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/scheduler/openapi.json", fuzzed_app)
    failures: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is broken: that is the failure
        operations.append(result.ok())
    for operation, mode in itertools.product(operations, MODES):

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: schemathesis.Case[Any]) -> None:
            if case.path.endswith("/shutdown"):
                case.body = {"wait": False}
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            continue  # no invalid input exists for this operation (no body, free-form path)
        except Exception as exc:
            failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
