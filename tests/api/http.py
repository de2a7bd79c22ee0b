"""One way to call the API for tests that must hold over real HTTP and the Flask test client.

:class:`WaitressApi` serves the app with waitress on a free loopback port, in this process,
so a test can still look at the scheduler and at module globals after the requests.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import requests
import waitress
from flask import Flask


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
    def __init__(self, app: Flask, threads: int = 8) -> None:
        self._server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
        self.base = f"http://127.0.0.1:{self._server.effective_port}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        self._session = requests.Session()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = self._session.request(method, self.base + path, timeout=30, **kwargs)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def close(self) -> None:
        """Close every socket from inside the server's own loop (closing them from this
        thread races with its ``select``), so the loop ends with an empty map."""
        self._session.close()
        channels = self._server._map  # waitress's socket map: server, trigger, connections

        def close_all() -> None:
            for channel in list(channels.values()):
                channel.close()

        self._server.trigger.pull_trigger(close_all)
        self._thread.join(10)
        assert not self._thread.is_alive(), "waitress did not stop"
        self._server.task_dispatcher.shutdown()


def open_api(app: Flask, transport: str) -> Api:
    return FlaskApi(app) if transport == "flask" else WaitressApi(app)
