"""Serving a WSGI app through waitress on a free loopback port, and calling it raw.

Raw calls (:func:`call`) go through :mod:`http.client`, so a test controls every header
(or its absence) and the client's source address: Linux routes all of 127.0.0.0/8 to
loopback, so ``127.0.0.2`` is a second client of a server listening on ``127.0.0.1``.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import waitress


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Loopback:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        client: str = "127.0.0.1",
    ) -> Answer:
        """Send exactly these headers (http.client adds only Host and Content-Length)."""
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=30, source_address=(client, 0)
        )
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            return Answer(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()


@contextmanager
def serve(app: Any) -> Iterator[Loopback]:
    """Serve ``app`` with waitress on 127.0.0.1 in a thread until the block ends.

    Stopping: finish the requests in progress, then close every socket of waitress's loop
    (listener, connections, its wake-up pipe); the loop ends when none is left.
    """
    server: Any = waitress.create_server(
        app, host="127.0.0.1", port=0, threads=8, asyncore_loop_timeout=0.05
    )
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    try:
        yield Loopback("127.0.0.1", server.effective_port)
    finally:
        stopping.set()
        server.task_dispatcher.shutdown()
        for channel in list(server._map.values()):
            channel.close()
        thread.join(10)
        assert not thread.is_alive(), "waitress did not stop"
