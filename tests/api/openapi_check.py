"""Checks a response against the OpenAPI document the app serves (used by every API test)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse


class OpenApiChecker:
    """Finds the documented operation of a request and validates the response against it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.operations: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for path, methods in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            for method, operation in methods.items():
                self.operations.append((pattern, method.upper(), operation))

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for pattern, documented_method, operation in self.operations:
            if documented_method == method and pattern.match(path):
                return operation
        return None

    def check(self, method: str, path: str, response: TestResponse) -> None:
        operation = self.operation(method, path)
        assert operation is not None, f"{method} {path} is not documented"
        status = str(response.status_code)
        responses = operation["responses"]
        assert status in responses, f"{method} {path}: {status} is not documented"
        documented = responses[status]
        for header in documented.get("headers", {}):
            if header == "Location":
                assert header in response.headers, f"{method} {path}: no {header} header"
        content = documented.get("content")
        if content is None:
            assert not response.data, f"{method} {path}: {status} should have no body"
            return
        assert response.mimetype == "application/json", response.mimetype
        schema = {**content["application/json"]["schema"], **self._components()}
        Draft202012Validator(schema).validate(response.get_json())

    def _components(self) -> dict[str, Any]:
        return {"components": self.document["components"]}
