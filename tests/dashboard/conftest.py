"""A real server and a real browser: a Flask app with tickwork's extension served on a free
loopback port by werkzeug, driven by headless Chromium through Playwright.

Chromium is Debian's (``scripts/install-browser``); Playwright's own download is not used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests import jobs
from tickwork.flask import APScheduler

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PREFIX = "/scheduler"


@dataclass
class Dashboard:
    """A running app: its root URL, the extension, and a way to check the REST API."""

    root: str
    extension: APScheduler
    prefix: str = PREFIX
    authorization: str | None = None

    @property
    def url(self) -> str:
        """The dashboard's page."""
        return f"{self.root}{self.prefix}/ui/"

    def api(self, method: str, path: str = "", **kwargs: Any) -> requests.Response:
        """Call the REST API directly, to check what the dashboard changed."""
        headers = {"Authorization": self.authorization} if self.authorization else {}
        return requests.request(
            method, f"{self.root}{self.prefix}{path}", headers=headers, timeout=10, **kwargs
        )


def serve(app: Flask) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on a free loopback port in a thread; returns its URL and a stopper."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return f"http://127.0.0.1:{server.server_port}", stop


def build_app(database_url: str, **config: Any) -> tuple[Flask, APScheduler]:
    """The app a user writes: the extension configured from ``app.config`` only."""
    app = Flask(__name__)
    app.config.update(
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_DATABASE_URL=database_url,
        SCHEDULER_TIMEZONE="UTC",
        SCHEDULER_ALLOWED_CALLABLES=["tests.jobs:*"],
    )
    app.config.update(config)
    return app, APScheduler(app=app)


@pytest.fixture
def make_dashboard() -> Iterator[Callable[..., Dashboard]]:
    """Start apps on a given database (running scheduler node included); stop them after."""
    stoppers: list[Callable[[], None]] = []

    def make(database_url: str, *, start: bool = True, **config: Any) -> Dashboard:
        app, extension = build_app(database_url, **config)
        if start:
            extension.start()
        root, stop = serve(app)
        stoppers.append(extension.scheduler.close)
        stoppers.append(stop)
        return Dashboard(root, extension, prefix=app.config.get("SCHEDULER_API_PREFIX", PREFIX))

    jobs.calls.clear()
    yield make
    for stop in reversed(stoppers):
        stop()


@pytest.fixture
def dashboard(database_url: str, make_dashboard: Callable[..., Dashboard]) -> Dashboard:
    """A dashboard on each backend (the database is set up first, so it outlives the app)."""
    return make_dashboard(database_url)


@pytest.fixture
def sqlite_dashboard(sqlite_url: str, make_dashboard: Callable[..., Dashboard]) -> Dashboard:
    return make_dashboard(sqlite_url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; run scripts/install-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (own storage); any script error or CSP violation fails the test."""
    context = browser.new_context(locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    yield tab
    context.close()
    assert not problems, problems
