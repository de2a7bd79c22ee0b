"""One way to call the API for tests that must hold over real HTTP and the Flask test client.

:class:`WaitressApi` serves the app with waitress on a free loopback port, in this process,
so a test can still look at the scheduler and at module globals after the requests.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Protocol

import requests
from flask import Flask

from tests.api.loopback import serve


class Api(Protocol):
    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send ``body`` as JSON; return the status and the decoded JSON (or None)."""
        ...

    def close(self) -> None: ...


class FlaskApi:
    def __init__(self, app: Flask) -> None:
        self._client = app.test_client()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self._client.open(path, method=method, json=body)
        return response.status_code, response.get_json(silent=True)

    def close(self) -> None:
        pass


class WaitressApi:
    """The app served by :func:`tests.api.loopback.serve`, called with ``requests``."""

    def __init__(self, app: Flask) -> None:
        self._stack = ExitStack()
        self.base = self._stack.enter_context(serve(app)).url
        self._session = requests.Session()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = self._session.request(method, self.base + path, timeout=30, **kwargs)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def close(self) -> None:
        self._session.close()
        self._stack.close()


def open_api(app: Flask, transport: str) -> Api:
    return FlaskApi(app) if transport == "flask" else WaitressApi(app)
