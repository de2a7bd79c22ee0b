"""The rule for an API reachable beyond loopback without auth."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from flask import Flask

from tickwork import ConfigurationError
from tickwork.api import check_exposure, is_loopback
from tickwork.flask import APScheduler


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_standalone_server_refuses_an_open_api_beyond_loopback() -> None:
    with pytest.raises(ConfigurationError, match="without authentication"):
        check_exposure("0.0.0.0", auth_enabled=False, refuse=True)
    check_exposure("0.0.0.0", auth_enabled=True, refuse=True)
    check_exposure("127.0.0.1", auth_enabled=False, refuse=True)


def test_allow_insecure_downgrades_to_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "tickwork.api"):
        check_exposure("0.0.0.0", auth_enabled=False, refuse=True, allow_insecure=True)
    assert "without authentication" in caplog.text


def test_extension_warns_at_init_and_on_the_first_remote_request(
    make_app: Callable[..., tuple[Flask, APScheduler]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        app, _ = make_app()
    assert "has no authentication" in caplog.text
    caplog.clear()
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        client.get("/scheduler")
        assert not caplog.records
        for _ in range(2):
            client.get("/scheduler", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "192.0.2.7" in errors[0].getMessage()
