"""Cross-site request forgery: what a page on another site can make a browser send.

Every attempt goes through real HTTP (waitress on loopback) to an app with the extension,
and each refused write must leave the store as it was: no job added, changed or run, the
scheduler not paused. The forms are those a browser sends without a CORS preflight (HTML
forms, ``fetch(..., {mode: "no-cors"})``, ``navigator.sendBeacon``), plus header tricks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.api.loopback import Loopback, serve
from tickwork import ConfigurationError
from tickwork.flask import APScheduler, HTTPBasicAuth
from tickwork.server import build_service, open_scheduler, parse_config

MakeApp = Callable[..., tuple[Flask, APScheduler]]

JOB = json.dumps({"id": "planted", "func": "tests.jobs:record", "trigger": "date"}).encode()
EVIL = "https://evil.example"


@pytest.fixture
def served(make_app: MakeApp) -> Iterator[tuple[Loopback, APScheduler]]:
    app, extension = make_app(SCHEDULER_ALLOWED_ORIGINS=["https://ops.example.com"])
    extension.add_job("existing", "tests.jobs:record", trigger="interval", hours=1)
    with serve(app) as server:
        yield server, extension


def unchanged(extension: APScheduler) -> None:
    """Nothing a refused write could have done happened."""
    assert [job.id for job in extension.get_jobs()] == ["existing"]
    job = extension.get_job("existing")
    assert job is not None
    assert job.next_run_time is not None  # not paused
    assert job.args == ()
    assert not extension.get_scheduler_state().is_paused
    assert extension.get_runs() == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",  # <form enctype="text/plain"> carrying a JSON-looking body
        "text/plain;charset=UTF-8",  # fetch(url, {mode: "no-cors", body: "..."})
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,  # a body without any Content-Type
        "application/json, text/plain",
        "text/plain; application/json",
        "application/jsonp",
    ],
)
def test_writes_that_are_not_json_are_415_and_change_nothing(
    served: tuple[Loopback, APScheduler], content_type: str | None
) -> None:
    server, extension = served
    headers = {} if content_type is None else {"Content-Type": content_type}
    attempts = [
        ("POST", "/scheduler/jobs", JOB),
        ("PATCH", "/scheduler/jobs/existing", b'{"args": [1]}'),
        ("PATCH", "/scheduler", b'{"is_paused": true}'),
        ("POST", "/scheduler/pause", b"{}"),
        ("POST", "/scheduler/jobs/existing/run", b"x=1"),
        ("DELETE", "/scheduler/jobs/existing", b"{}"),
    ]
    for method, path, body in attempts:
        answer = server.call(method, path, body, headers)
        assert answer.status == 415, (method, path, answer.body)
        shown = "none" if content_type is None else repr(content_type)
        assert answer.json() == {
            "error_message": "the request body must be sent as Content-Type: "
            f"application/json, got {shown}",
            "field": "Content-Type",
        }
    unchanged(extension)


def test_an_empty_form_is_refused_even_without_a_body(
    served: tuple[Loopback, APScheduler],
) -> None:
    server, extension = served
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        answer = server.call("POST", "/scheduler/pause", b"", {"Content-Type": content_type})
        assert answer.status == 415
    unchanged(extension)


def test_a_chunked_body_without_content_type_is_415(
    served: tuple[Loopback, APScheduler],
) -> None:
    server, extension = served
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(JOB), JOB)
    answer = server.call("POST", "/scheduler/jobs", chunked, {"Transfer-Encoding": "chunked"})
    assert answer.status == 415
    unchanged(extension)


def test_json_writes_and_bodyless_posts_work(served: tuple[Loopback, APScheduler]) -> None:
    server, extension = served
    json_utf8 = {"Content-Type": "application/json; charset=utf-8"}
    assert server.call("POST", "/scheduler/jobs", JOB, json_utf8).status == 200
    assert extension.get_job("planted") is not None
    # curl -X POST .../pause and Flask-APScheduler clients send no body and no type.
    assert server.call("POST", "/scheduler/pause").status == 204
    assert extension.get_scheduler_state().is_paused
    typed = {"Content-Type": "Application/JSON"}
    assert server.call("POST", "/scheduler/resume", b"", typed).status == 204
    assert not extension.get_scheduler_state().is_paused


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},  # sandboxed iframe, data: URL, or Referrer-Policy no-referrer
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Origin": "garbage"},
        {"Referer": f"{EVIL}/attack.html"},  # an older browser that sends no Origin
        {"Sec-Fetch-Site": "cross-site"},  # Origin stripped by a proxy
        {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:1"},  # another port
        {"Sec-Fetch-Site": "cross-site", "Origin": "same-host-below"},
        {"Origin": EVIL, "Referer": "http://127.0.0.1/"},  # Origin decides, not Referer
    ],
)
def test_cross_origin_writes_are_403_and_change_nothing(
    served: tuple[Loopback, APScheduler], headers: dict[str, str]
) -> None:
    server, extension = served
    if headers.get("Origin") == "same-host-below":
        headers = {**headers, "Origin": server.url}  # the browser says cross-site: trusted
    json_type = {"Content-Type": "application/json"}
    attempts = [
        ("POST", "/scheduler/jobs", JOB, json_type),
        ("POST", "/scheduler/pause", None, {}),  # navigator.sendBeacon(url)
        ("POST", "/scheduler/jobs/existing/run", None, {}),  # fetch(url, {mode: "no-cors"})
        ("POST", "/scheduler/shutdown", None, {}),
        ("DELETE", "/scheduler/jobs/existing", None, {}),
        ("PATCH", "/scheduler", b'{"is_paused": true}', json_type),
    ]
    for method, path, body, extra in attempts:
        answer = server.call(method, path, body, {**headers, **extra})
        assert answer.status == 403, (method, path, answer.body)
        message = answer.json()["error_message"]
        assert message.startswith("cross-origin request refused: "), message
        assert answer.json()["field"] == "Origin"
    unchanged(extension)


def test_same_origin_and_configured_origins_may_write(
    served: tuple[Loopback, APScheduler],
) -> None:
    server, extension = served
    same = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    assert server.call("POST", "/scheduler/pause", None, same).status == 204
    referer = {"Referer": f"{server.url}/scheduler/ui/"}
    assert server.call("POST", "/scheduler/resume", None, referer).status == 204
    # A configured origin, as the browser spells it (default port, any case).
    for origin in ("https://ops.example.com", "HTTPS://OPS.example.com:443"):
        allowed = {"Origin": origin, "Sec-Fetch-Site": "cross-site"}
        assert server.call("POST", "/scheduler/pause", None, allowed).status == 204
    assert extension.get_scheduler_state().is_paused


def test_reads_from_anywhere_still_work_but_grant_no_cors(
    served: tuple[Loopback, APScheduler],
) -> None:
    server, _ = served
    answer = server.call("GET", "/scheduler/jobs", None, {"Origin": EVIL})
    assert answer.status == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_preflight_head_and_method_override_do_not_open_a_way(
    served: tuple[Loopback, APScheduler],
) -> None:
    server, extension = served
    preflight = server.call(
        "OPTIONS",
        "/scheduler/jobs",
        None,
        {
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    # Flask answers OPTIONS itself, but never approves the origin: the browser stops here.
    assert not any(name.lower().startswith("access-control-") for name in preflight.headers)
    assert server.call("HEAD", "/scheduler/pause").status == 405
    override = server.call(
        "POST",
        "/scheduler/jobs/existing",
        None,
        {"X-HTTP-Method-Override": "DELETE", "X-Method-Override": "DELETE"},
    )
    assert override.status == 405
    unchanged(extension)


def test_origin_check_comes_before_authentication(make_app: MakeApp) -> None:
    calls: list[object] = []
    app, extension = make_app(SCHEDULER_AUTH=HTTPBasicAuth())

    @extension.authenticate
    def check(auth: object) -> bool:
        calls.append(auth)
        return True

    client = app.test_client()
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    refused = client.post("/scheduler/pause", headers={**basic, "Origin": EVIL})
    assert refused.status_code == 403
    plain = client.post("/scheduler/jobs", data=JOB, headers=basic, content_type="text/plain")
    assert plain.status_code == 415
    assert calls == []  # no password was checked for either
    assert client.post("/scheduler/pause", headers=basic).status_code == 204
    assert len(calls) == 1


@pytest.mark.parametrize(
    "value",
    ["https://ops.example.com", ["*"], ["null"], ["https://ops.example.com/path"], [3],
     ["ftp://ops.example.com"], ["ops.example.com"]],
)  # fmt: skip
def test_bad_allowed_origins_are_configuration_errors(
    make_app: MakeApp, tmp_path: Path, value: object
) -> None:
    with pytest.raises(ConfigurationError, match="SCHEDULER_ALLOWED_ORIGINS"):
        make_app(SCHEDULER_ALLOWED_ORIGINS=value)
    with pytest.raises(ConfigurationError, match=r"server\.allowed_origins"):
        parse_config({"server": {"allowed_origins": value}})


def test_the_service_reads_allowed_origins_from_toml(tmp_path: Path) -> None:
    config = parse_config(
        {
            "database": f"sqlite:///{tmp_path}/svc.sqlite",
            "server": {"allowed_origins": ["https://ops.example.com:8443"]},
        }
    )
    assert config.allowed_origins == frozenset({"https://ops.example.com:8443"})
    scheduler, loaded = open_scheduler(config)
    try:
        client = build_service(config, scheduler, loaded).app.test_client()
        allowed = {"Origin": "https://ops.example.com:8443"}
        assert client.post("/scheduler/pause", headers=allowed).status_code == 204
        other = {"Origin": "https://ops.example.com"}
        assert client.post("/scheduler/resume", headers=other).status_code == 403
        assert scheduler.get_scheduler_state().is_paused
    finally:
        scheduler.close()


REBOUND = "rebind.attacker.example"


def test_dns_rebinding_without_auth_is_403_for_reads_and_writes(
    served: tuple[Loopback, APScheduler],
) -> None:
    """A page at ``http://rebind.attacker.example:PORT`` whose name now resolves to
    127.0.0.1: the browser sends that ``Host`` and a matching, same-origin ``Origin``."""
    server, extension = served
    host = f"{REBOUND}:{server.port}"
    page = {"Host": host, "Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"}
    json_page = {**page, "Content-Type": "application/json"}
    attempts = [
        ("GET", "/scheduler/jobs", None, page),  # would read every job's arguments
        ("POST", "/scheduler/pause", None, page),
        ("POST", "/scheduler/jobs", JOB, json_page),
        ("PATCH", "/scheduler/jobs/existing", b'{"args": [1]}', json_page),
        ("POST", "/scheduler/jobs/existing/run", None, page),
    ]
    for method, path, body, headers in attempts:
        answer = server.call(method, path, body, headers)
        assert (answer.status, answer.json()["field"]) == (403, "Host"), (method, path)
        assert "DNS rebinding" in answer.json()["error_message"]
    unchanged(extension)


def test_addresses_localhost_and_allowed_origins_are_not_rebindable(
    served: tuple[Loopback, APScheduler],
) -> None:
    server, _ = served
    for host in ("127.0.0.1", "[::1]", "localhost", "LOCALHOST.", "ui.localhost"):
        named = f"{host}:{server.port}"
        assert server.call("GET", "/scheduler/jobs", None, {"Host": named}).status == 200, host
    # The configured origin's host, e.g. a proxy passing the public name on.
    assert server.call("GET", "/scheduler", None, {"Host": "ops.example.com"}).status == 200
    assert server.call("GET", "/scheduler", None, {"Host": "ops.example.com:8443"}).status == 403


def test_with_auth_a_dns_name_is_fine(make_app: MakeApp) -> None:
    """The browser holds no credentials for a rebound name, so only auth matters then."""
    token = "a-token-of-sixteen-characters"
    app, _ = make_app(SCHEDULER_API_TOKENS=[token])
    with serve(app) as server:
        host = {"Host": f"scheduler.internal:{server.port}"}
        assert server.call("GET", "/scheduler/jobs", None, host).status == 401
        bearer = {**host, "Authorization": f"Bearer {token}"}
        assert server.call("GET", "/scheduler/jobs", None, bearer).status == 200
