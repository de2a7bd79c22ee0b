"""How the dashboard's files are served (no browser needed): paths, headers, caching, and
the extension's switch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.dashboard.conftest import build_app
from tickwork.dashboard import install_dashboard
from tickwork.dashboard.install import load_assets
from tickwork.exceptions import ConfigurationError

STATIC = Path(__file__).parents[2] / "src" / "tickwork" / "dashboard" / "static"


@pytest.fixture
def make_app(sqlite_url: str) -> Iterator[Callable[..., Flask]]:
    """Apps on a SQLite file (scheduler not started); their schedulers are closed after."""
    made = []

    def make(**config: Any) -> Flask:
        app, extension = build_app(sqlite_url, **config)
        made.append(extension)
        return app

    yield make
    for extension in made:
        extension.scheduler.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def test_page_and_assets_under_the_api_prefix(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/scheduler/ui/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert b'<script type="module" src="app.js">' in page.data
    assert client.get("/scheduler/ui/app.js").mimetype == "text/javascript"
    assert client.get("/scheduler/ui/dashboard.css").mimetype == "text/css"
    assert client.get("/scheduler/ui/missing.js").status_code == 404
    assert client.get("/scheduler/ui/../api.js").status_code == 404


def test_the_bare_path_redirects_to_the_page(app: Flask) -> None:
    response = app.test_client().get("/scheduler/ui?x=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "/scheduler/ui/?x=1"


def test_headers_lock_the_page_down_and_allow_revalidation(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/scheduler/ui/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-cache" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/scheduler/ui/", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_every_shipped_file_is_served() -> None:
    assets = load_assets()
    assert set(assets) == {path.name for path in STATIC.iterdir()}
    assert {"index.html", "app.js", "dashboard.css"} <= set(assets)


def test_the_pages_never_use_inner_html() -> None:
    for path in STATIC.glob("*.js"):
        text = path.read_text()
        assert "innerHTML" not in text.replace("never through innerHTML", ""), path.name
        assert "insertAdjacentHTML" not in text, path.name


def test_follows_the_api_prefix_and_endpoint_prefix(make_app: Callable[..., Flask]) -> None:
    app = make_app(SCHEDULER_API_PREFIX="/ops/cron/", SCHEDULER_ENDPOINT_PREFIX="cron_")
    client = app.test_client()
    assert client.get("/ops/cron/ui/").status_code == 200
    assert client.get("/scheduler/ui/").status_code == 404
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {"cron_dashboard", "cron_dashboard_asset", "cron_dashboard_redirect"} <= endpoints


def test_can_be_turned_off(make_app: Callable[..., Flask]) -> None:
    app = make_app(SCHEDULER_DASHBOARD_ENABLED=False)
    client = app.test_client()
    assert client.get("/scheduler/ui/").status_code == 404
    assert client.get("/scheduler/jobs").status_code == 200


def test_needs_the_api(make_app: Callable[..., Flask]) -> None:
    app = make_app(SCHEDULER_API_ENABLED=False)
    assert app.test_client().get("/scheduler/ui/").status_code == 404


@pytest.mark.parametrize("prefix", ["", "/", "scheduler"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="prefix"):
        install_dashboard(Flask(__name__), prefix)
