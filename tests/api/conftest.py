"""Flask apps using tickwork's extension on each backend; every response is checked
against the OpenAPI document the app serves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import jobs
from tests.api.openapi_check import OpenApiChecker
from tickwork import EngineSettings, Scheduler
from tickwork.flask import APScheduler

FAST = EngineSettings(poll_interval=0.05, heartbeat_interval=0.2, node_timeout=1.0)


class CheckedClient(FlaskClient):
    """A test client that validates each API response against the served OpenAPI document."""

    checker: OpenApiChecker | None = None
    prefix = "/scheduler"

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        if self.checker is not None and request.path.startswith(self.prefix):
            self.checker.check(request.method, request.path, response)
        return response


def build_app(database_url: str, **config: Any) -> tuple[Flask, APScheduler]:
    """An app with the API on, allow-listing tests.jobs; a fast engine so tests stay short."""
    app = Flask(__name__)
    app.config.update(
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_TIMEZONE="UTC",
        SCHEDULER_ALLOWED_CALLABLES=["tests.jobs:*"],
    )
    app.config.update(config)
    scheduler = Scheduler(
        database_url,
        timezone="UTC",
        settings=FAST,
        call_wrapper=lambda call: _in_context(app, call),
    )
    extension = APScheduler(scheduler)
    extension.init_app(app)
    app.test_client_class = CheckedClient
    return app, extension


def _in_context(app: Flask, call: Callable[[], Any]) -> Any:
    with app.app_context():
        return call()


@pytest.fixture
def made(database_url: str) -> Iterator[list[APScheduler]]:
    """Extensions to close before the test's database is dropped."""
    extensions: list[APScheduler] = []
    yield extensions
    for extension in extensions:
        if extension._scheduler is not None:
            extension.scheduler.close()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., tuple[Flask, APScheduler]]]:
    """Build apps on the test's database; their schedulers are closed afterwards."""
    made: list[APScheduler] = []

    def make(**config: Any) -> tuple[Flask, APScheduler]:
        app, extension = build_app(database_url, **config)
        made.append(extension)
        return app, extension

    jobs.calls.clear()
    yield make
    jobs.gate.set()
    for extension in made:
        extension.scheduler.close()
    jobs.gate.clear()


@pytest.fixture
def app_and_scheduler(
    make_app: Callable[..., tuple[Flask, APScheduler]],
) -> tuple[Flask, APScheduler]:
    return make_app()


@pytest.fixture
def scheduler(app_and_scheduler: tuple[Flask, APScheduler]) -> APScheduler:
    return app_and_scheduler[1]


@pytest.fixture
def client(app_and_scheduler: tuple[Flask, APScheduler]) -> CheckedClient:
    """A client checked against the document of its app."""
    app = app_and_scheduler[0]
    client = app.test_client()
    assert isinstance(client, CheckedClient)
    document = app.test_client().get("/scheduler/openapi.json").get_json()
    client.checker = OpenApiChecker(document)
    return client
