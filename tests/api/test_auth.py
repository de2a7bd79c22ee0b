"""HTTP Basic through ``@authenticate`` (as Flask-APScheduler) and bearer tokens."""

from __future__ import annotations

import base64
from collections.abc import Callable

import flask_apscheduler.auth
import pytest
from flask import Flask

from tickwork.api.throttle import FREE_FAILURES
from tickwork.flask import APScheduler, HTTPBasicAuth, HTTPBearerAuth

TOKEN = "s3cret-token-of-32-characters!!!"

MakeApp = Callable[..., tuple[Flask, APScheduler]]


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _guest_only(auth: dict[str, str]) -> bool:
    return auth["username"] == "guest" and auth["password"] == "guest"


@pytest.mark.parametrize("scheme", [HTTPBasicAuth, flask_apscheduler.auth.HTTPBasicAuth])
def test_basic_auth_with_the_authenticate_callback(make_app: MakeApp, scheme: type) -> None:
    app, scheduler = make_app(SCHEDULER_AUTH=scheme())
    scheduler.authenticate(_guest_only)
    client = app.test_client()
    for headers in ({}, basic("guest", "wrong"), {"Authorization": "Basic !!"}):
        denied = client.get("/scheduler/jobs", headers=headers)
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"] == 'Basic realm="Authentication Required"'
        assert denied.get_json() == {"error_message": "Access Denied"}
    assert client.get("/scheduler/jobs", headers=basic("guest", "guest")).status_code == 200
    assert scheduler.count_jobs() == 0


def test_basic_auth_without_a_callback_denies_everyone(make_app: MakeApp) -> None:
    app, _ = make_app(SCHEDULER_AUTH=HTTPBasicAuth())
    assert app.test_client().get("/scheduler", headers=basic("a", "b")).status_code == 401


def test_authenticate_before_init_app_is_kept(database_url: str) -> None:
    app = Flask(__name__)
    app.config.update(
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_AUTH=HTTPBasicAuth(),
        SCHEDULER_DATABASE_URL=database_url,
    )
    scheduler = APScheduler()
    scheduler.authenticate(_guest_only)
    scheduler.init_app(app)
    try:
        client = app.test_client()
        assert client.get("/scheduler").status_code == 401
        assert client.get("/scheduler", headers=basic("guest", "guest")).status_code == 200
    finally:
        scheduler.scheduler.close()


def test_bearer_tokens_from_config(make_app: MakeApp) -> None:
    app, _ = make_app(SCHEDULER_API_TOKENS=[TOKEN])
    client = app.test_client()
    denied = client.post("/scheduler/pause", headers={"Authorization": "Bearer wrong"})
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"] == 'Bearer realm="tickwork"'
    ok = client.post("/scheduler/pause", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 204


def test_tokens_and_basic_together(make_app: MakeApp) -> None:
    app, scheduler = make_app(SCHEDULER_AUTH=HTTPBasicAuth(), SCHEDULER_API_TOKENS=[TOKEN])
    scheduler.authenticate(_guest_only)
    client = app.test_client()
    challenge = client.get("/scheduler").headers["WWW-Authenticate"]
    assert challenge == 'Basic realm="Authentication Required", Bearer realm="tickwork"'
    assert client.get("/scheduler", headers=basic("guest", "guest")).status_code == 200
    assert client.get("/scheduler", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_bearer_scheme_uses_the_callback(make_app: MakeApp) -> None:
    app, scheduler = make_app(SCHEDULER_AUTH=HTTPBearerAuth())
    scheduler.authenticate(lambda auth: auth["token"] == "from-callback")
    client = app.test_client()
    assert client.get("/scheduler").status_code == 401
    headers = {"Authorization": "Bearer from-callback"}
    assert client.get("/scheduler", headers=headers).status_code == 200


def test_short_tokens_are_refused(make_app: MakeApp) -> None:
    from tickwork import ConfigurationError

    with pytest.raises(ConfigurationError, match="16 characters"):
        make_app(SCHEDULER_API_TOKENS=["short"])


def test_openapi_document_is_public_and_documents_401(make_app: MakeApp) -> None:
    app, _ = make_app(SCHEDULER_API_TOKENS=[TOKEN])
    document = app.test_client().get("/scheduler/openapi.json").get_json()
    assert document["paths"]["/scheduler/jobs"]["get"]["responses"]["401"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_failed_sign_ins_back_off_per_client_before_the_callback(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask-APScheduler's callback may hash a password: a client that keeps failing is
    answered 429 without calling it, while other clients and valid tokens still get in."""
    monkeypatch.setattr("tickwork.api.throttle.monotonic", lambda: 0.0)  # time stands still
    app, scheduler = make_app(SCHEDULER_AUTH=HTTPBasicAuth(), SCHEDULER_API_TOKENS=[TOKEN])
    calls: list[str] = []

    @scheduler.authenticate
    def check(auth: dict[str, str]) -> bool:
        calls.append(auth["username"])
        return _guest_only(auth)

    client = app.test_client()
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(FREE_FAILURES):
        denied = client.get("/scheduler", headers=basic("guest", "x"), environ_base=attacker)
        assert denied.status_code == 401
    throttled = client.get("/scheduler", headers=basic("guest", "x"), environ_base=attacker)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert len(calls) == FREE_FAILURES
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/scheduler", headers=bearer, environ_base=attacker).status_code == 200
    other = {"REMOTE_ADDR": "198.51.100.4"}
    assert (
        client.get("/scheduler", headers=basic("guest", "guest"), environ_base=other).status_code
        == 200
    )
    assert len(calls) == FREE_FAILURES + 1
