"""``[auth] basic_users`` hardened: weak passwords refused at load, unknown users cost as much
as known ones, and failed attempts cannot keep the CPU busy hashing."""

from __future__ import annotations

import base64
import itertools
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.security import check_password_hash, generate_password_hash

from tests.api.loopback import Loopback, serve
from tickwork import ConfigurationError, Scheduler
from tickwork.api import ApiAuth, ApiContext, HTTPBasicAuth, install_api
from tickwork.api.throttle import FREE_FAILURES, FailureThrottle
from tickwork.config import MIN_PASSWORD_LENGTH, ServiceConfig
from tickwork.server import build_service, open_scheduler, parse_config
from tickwork.server.auth import BasicUsers

PASSWORD = "correct horse battery staple"
#: A cheap hash, so tests that count hashes stay fast; the timing test uses scrypt.
FAST_METHOD = "pbkdf2:sha256:1000"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ({"admin": ""}, "auth.basic_users.admin: the password is empty"),
        ({"admin": "x" * (MIN_PASSWORD_LENGTH - 1)}, "only 11 characters long; use at least 12"),
        ({"": PASSWORD}, "auth.basic_users.: a user name must be non-empty"),
        ({"ad:min": PASSWORD}, "without ':'"),
        ({"ops": "scrypt:32768:8:1$salt"}, "auth.basic_users.ops: not a complete Werkzeug hash"),
    ],
)
def test_weak_or_unusable_users_are_refused_at_load(users: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_config({"auth": {"basic_users": users}})


def test_long_enough_plain_passwords_and_hashes_are_accepted() -> None:
    users = {"admin": "x" * MIN_PASSWORD_LENGTH, "ops": generate_password_hash("a", FAST_METHOD)}
    assert parse_config({"auth": {"basic_users": users}}).basic_users == users


def test_an_unknown_hash_method_is_refused_when_the_service_is_built(tmp_path: Path) -> None:
    config = ServiceConfig(
        database=f"sqlite:///{tmp_path}/svc.sqlite", basic_users={"ops": "pbkdf2:md99:1$ab$cd"}
    )
    scheduler, loaded = open_scheduler(config)
    try:
        with pytest.raises(
            ConfigurationError, match=r"auth\.basic_users\.ops: unknown hash method"
        ):
            build_service(config, scheduler, loaded)
    finally:
        scheduler.close()


def test_unknown_users_are_checked_against_a_dummy_hash_of_the_same_method() -> None:
    users = BasicUsers(
        {
            "ops": generate_password_hash(PASSWORD, FAST_METHOD),
            "dev": generate_password_hash(PASSWORD, FAST_METHOD),
            "old": generate_password_hash(PASSWORD, "pbkdf2:sha256:2000"),
        }
    )
    assert not users({"username": "nobody", "password": PASSWORD})
    assert users.hash_checks == 1
    assert not users({"username": "ops", "password": "wrong"})
    assert users.hash_checks == 2
    assert users._dummy_hash is not None
    assert users._dummy_hash.startswith(FAST_METHOD + "$")  # the method most users have


def test_a_verified_password_is_remembered_and_a_wrong_one_never() -> None:
    now = [0.0]
    users = BasicUsers({"ops": generate_password_hash(PASSWORD, FAST_METHOD)}, lambda: now[0])
    for _ in range(5):
        assert users({"username": "ops", "password": PASSWORD})
    assert users.hash_checks == 1
    for _ in range(3):
        assert not users({"username": "ops", "password": PASSWORD + "!"})
    assert users.hash_checks == 4
    now[0] += 3600  # remembered successes expire
    assert users({"username": "ops", "password": PASSWORD})
    assert users.hash_checks == 5


def test_plain_passwords_compare_as_digests_for_known_and_unknown_users() -> None:
    users = BasicUsers({"admin": PASSWORD})
    assert users({"username": "admin", "password": PASSWORD})
    assert not users({"username": "admin", "password": PASSWORD[:-1]})
    assert not users({"username": "nobody", "password": PASSWORD})
    assert users.hash_checks == 0


def test_timing_of_unknown_and_known_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Measured, not asserted on time: the numbers go to the report. What is asserted is
    that an unknown user runs one hash check, as a known one does."""
    config = ServiceConfig(
        database=f"sqlite:///{tmp_path}/svc.sqlite",
        basic_users={"ops": generate_password_hash(PASSWORD)},  # scrypt, the default
    )
    scheduler, loaded = open_scheduler(config)
    try:
        service = build_service(config, scheduler, loaded)
        users = service.auth.callback()
        assert isinstance(users, BasicUsers)
        client = service.app.test_client()
        samples: dict[str, list[float]] = {"unknown": [], "known, wrong": [], "known, right": []}
        cases = {
            "unknown": basic("nobody", PASSWORD),
            "known, wrong": basic("ops", "wrong password!"),
            "known, right": basic("ops", PASSWORD),
        }
        addresses = (f"10.1.0.{number}" for number in itertools.count(1))
        for _ in range(7):
            for label, headers in cases.items():
                # Each request from its own address, so the back-off does not step in.
                address = next(addresses)
                started = time.perf_counter()
                answer = client.get(
                    "/scheduler", headers=headers, environ_base={"REMOTE_ADDR": address}
                )
                samples[label].append(time.perf_counter() - started)
                assert answer.status_code == (200 if label == "known, right" else 401)
        assert users.hash_checks == 7 + 7 + 1  # the right password is hashed once
        with capsys.disabled():
            for label, values in samples.items():
                median = statistics.median(values) * 1000
                print(f"\nbasic auth timing, {label}: median {median:.1f} ms")
    finally:
        scheduler.close()


class FrozenClock:
    """Time stands still, so a client's wait never ends during the test."""

    def __call__(self) -> float:
        return 0.0


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[tuple[Loopback, BasicUsers, Scheduler]]:
    """The API behind configured Basic users and a frozen back-off, served by waitress."""
    scheduler = Scheduler(f"sqlite:///{tmp_path}/svc.sqlite")
    users = BasicUsers({"ops": generate_password_hash(PASSWORD, FAST_METHOD)})
    auth = ApiAuth.build(HTTPBasicAuth(), lambda: users, throttle=FailureThrottle(FrozenClock()))
    app = Flask(__name__)
    install_api(app, ApiContext(scheduler, auth=auth))
    try:
        with serve(app) as server:
            yield server, users, scheduler
    finally:
        scheduler.close()


def test_a_client_that_keeps_failing_gets_429_without_hashing(
    guarded: tuple[Loopback, BasicUsers, Scheduler],
) -> None:
    server, users, scheduler = guarded
    wrong = basic("ops", "not the password")
    for _ in range(FREE_FAILURES):
        assert server.call("POST", "/scheduler/pause", None, wrong).status == 401
    assert users.hash_checks == FREE_FAILURES
    for headers in (wrong, basic("nobody", PASSWORD), basic("ops", PASSWORD)):
        answer = server.call("POST", "/scheduler/pause", None, headers)
        assert answer.status == 429
        assert int(answer.headers["Retry-After"]) >= 1
        assert "too many failed sign-ins" in answer.json()["error_message"]
    assert users.hash_checks == FREE_FAILURES
    # No credentials at all cost nothing: still a plain 401 with the challenge.
    assert server.call("GET", "/scheduler").status == 401
    assert not scheduler.get_scheduler_state().is_paused
    # Another client is not affected: the right password works from 127.0.0.2.
    ok = server.call("POST", "/scheduler/pause", None, basic("ops", PASSWORD), client="127.0.0.2")
    assert ok.status == 204
    assert scheduler.get_scheduler_state().is_paused


def test_parallel_wrong_passwords_from_one_client_hash_at_most_the_allowance(
    guarded: tuple[Loopback, BasicUsers, Scheduler],
) -> None:
    server, users, _ = guarded
    statuses: list[int] = []
    lock = threading.Lock()

    def attack() -> None:
        for _ in range(5):
            status = server.call("GET", "/scheduler", None, basic("ops", "guess")).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=attack) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(statuses) == 40
    assert users.hash_checks <= FREE_FAILURES
    assert statuses.count(401) == users.hash_checks
    assert statuses.count(429) == 40 - users.hash_checks


def test_hashes_are_checked_one_at_a_time_whatever_the_number_of_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rotating addresses defeats a per-client back-off; the global bound still holds."""
    import tickwork.server.auth as auth_module

    active = 0
    most = 0
    lock = threading.Lock()
    real_check = check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        try:
            time.sleep(0.01)  # widen the window in which overlaps would show
            return real_check(stored, password)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(auth_module, "check_password_hash", counting_check)
    users = BasicUsers({"admin": generate_password_hash(PASSWORD, FAST_METHOD)})
    threads = [
        threading.Thread(target=users, args=({"username": name, "password": "wrong guess!"},))
        for name in ("admin", "nobody") * 10
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert users.hash_checks == 20
    assert most == 1
    assert users({"username": "admin", "password": PASSWORD})
