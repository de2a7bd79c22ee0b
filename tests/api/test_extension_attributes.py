"""Attributes set on the extension before ``init_app`` work as in Flask-APScheduler.

``scheduler.auth = HTTPBasicAuth(); scheduler.init_app(app)`` used to serve the API with no
authentication. Each attribute is compared with the real Flask-APScheduler 1.13, which
takes it as the default of its ``SCHEDULER_*`` key.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any, TypeAlias

import flask_apscheduler
import flask_apscheduler.auth
import pytest
from flask import Flask

from tickwork import ConfigurationError
from tickwork.flask import APScheduler, HTTPBasicAuth

#: tickwork's extension or Flask-APScheduler's (untyped, so the checks are on the tests).
Extension: TypeAlias = Any


@pytest.fixture
def extensions(database_url: str) -> Iterator[list[Extension]]:
    """Both extensions get the same app config; tickwork's is closed after the test."""
    made: list[Extension] = []
    yield made
    for extension in made:
        if isinstance(extension, APScheduler) and extension._scheduler is not None:
            extension.scheduler.close()


def attach(made: list[Extension], extension: Extension, database_url: str, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SCHEDULER_DATABASE_URL=database_url, SCHEDULER_TIMEZONE="UTC", **config)
    made.append(extension)
    extension.init_app(app)
    extension.authenticate(lambda auth: auth["password"] == "correct horse battery")
    return app


def both() -> list[Extension]:
    return [APScheduler(), flask_apscheduler.APScheduler()]


def basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("index", [0, 1], ids=["tickwork", "flask_apscheduler"])
def test_auth_and_api_set_before_init_app_protect_the_api(
    extensions: list[Extension], database_url: str, index: int
) -> None:
    extension = both()[index]
    extension.auth = HTTPBasicAuth() if index == 0 else flask_apscheduler.auth.HTTPBasicAuth()
    extension.api_enabled = True
    app = attach(extensions, extension, database_url)
    client = app.test_client()
    assert client.get("/scheduler").status_code == 401
    assert client.get("/scheduler", headers=basic("wrong password!!")).status_code == 401
    assert client.get("/scheduler", headers=basic("correct horse battery")).status_code == 200


@pytest.mark.parametrize("index", [0, 1], ids=["tickwork", "flask_apscheduler"])
def test_prefixes_set_before_init_app_are_used(
    extensions: list[Extension], database_url: str, index: int
) -> None:
    extension = both()[index]
    extension.api_enabled = True
    extension.api_prefix = "/cron"
    extension.endpoint_prefix = "cron."
    app = attach(extensions, extension, database_url)
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["cron.get_jobs"] == "/cron/jobs"
    assert not any(rule.startswith("/scheduler") for rule in rules.values())


@pytest.mark.parametrize("index", [0, 1], ids=["tickwork", "flask_apscheduler"])
def test_a_config_key_wins_over_the_attribute(
    extensions: list[Extension], database_url: str, index: int
) -> None:
    extension = both()[index]
    extension.api_enabled = False
    extension.api_prefix = "/ignored"
    app = attach(
        extensions, extension, database_url, SCHEDULER_API_ENABLED=True, SCHEDULER_API_PREFIX="/x"
    )
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["scheduler.get_jobs"] == "/x/jobs"


@pytest.mark.parametrize("index", [0, 1], ids=["tickwork", "flask_apscheduler"])
@pytest.mark.parametrize(
    ("hosts", "starts"),
    [([], False), (["*"], True), (["elsewhere.example"], False), (["HOST"], True)],
)
def test_allowed_hosts_as_attribute_and_key(
    extensions: list[Extension], database_url: str, index: int, hosts: list[str], starts: bool
) -> None:
    hosts = [socket.gethostname() if host == "HOST" else host for host in hosts]
    for via_attribute in (True, False):
        extension = both()[index]
        config: dict[str, Any] = {}
        if via_attribute:
            extension.allowed_hosts = hosts
        else:
            config["SCHEDULER_ALLOWED_HOSTS"] = hosts
        attach(extensions, extension, database_url, **config)
        extension.start()
        try:
            assert extension.running is starts, (hosts, via_attribute)
        finally:
            if extension.running:
                extension.shutdown()


@pytest.mark.parametrize(
    "name", ["auth", "api_enabled", "api_prefix", "endpoint_prefix", "allowed_hosts"]
)
def test_setting_an_attribute_after_init_app_is_an_error(
    extensions: list[Extension], database_url: str, name: str
) -> None:
    extension = APScheduler()
    attach(extensions, extension, database_url, SCHEDULER_API_ENABLED=True)
    before = getattr(extension, name)
    with pytest.raises(ConfigurationError, match="before init_app") as raised:
        setattr(extension, name, HTTPBasicAuth() if name == "auth" else before)
    assert raised.value.field == name
    assert getattr(extension, name) == before


@pytest.mark.parametrize("value", ["basic", {"user": "pw"}, object(), True])
def test_an_auth_that_cannot_check_credentials_is_refused(
    extensions: list[Extension], database_url: str, value: object
) -> None:
    extension = APScheduler()
    extension.auth = value
    extension.api_enabled = True
    with pytest.raises(ConfigurationError, match="SCHEDULER_AUTH must be an auth scheme"):
        attach(extensions, extension, database_url)
    with pytest.raises(ConfigurationError, match="SCHEDULER_AUTH must be an auth scheme"):
        attach(extensions, APScheduler(), database_url, SCHEDULER_AUTH=value)


@pytest.mark.parametrize("value", ["*", None, 5, [1]])
def test_allowed_hosts_of_the_wrong_type_are_refused(
    extensions: list[Extension], database_url: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match="SCHEDULER_ALLOWED_HOSTS"):
        attach(extensions, APScheduler(), database_url, SCHEDULER_ALLOWED_HOSTS=value)
