"""The per-client back-off for failed sign-ins, on a clock moved by hand."""

from __future__ import annotations

import pytest

from tickwork.api.throttle import (
    FIRST_DELAY,
    FORGET_AFTER,
    FREE_FAILURES,
    MAX_CLIENTS,
    MAX_DELAY,
    FailureThrottle,
    client_key,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: FailureThrottle, client: str = "a") -> None:
    assert throttle.admit(client) == 0
    throttle.settle(client, succeeded=False)


def test_free_failures_then_doubling_waits_up_to_the_ceiling() -> None:
    clock = Clock()
    throttle = FailureThrottle(clock)
    for _ in range(FREE_FAILURES - 1):
        fail(throttle)
    fail(throttle)  # the last free one starts the first wait
    assert throttle.admit("a") == FIRST_DELAY
    waits = []
    for _ in range(12):
        clock.now += throttle.admit("a")
        fail(throttle)
        waits.append(throttle.admit("a"))
    assert waits[:4] == [2 * FIRST_DELAY, 4 * FIRST_DELAY, 8 * FIRST_DELAY, 16 * FIRST_DELAY]
    assert waits[-1] == MAX_DELAY
    assert throttle.admit("b") == 0  # other clients are not affected


def test_success_forgets_failures_and_quiet_clients_start_afresh() -> None:
    clock = Clock()
    throttle = FailureThrottle(clock)
    for _ in range(FREE_FAILURES - 1):
        fail(throttle)
    assert throttle.admit("a") == 0
    throttle.settle("a", succeeded=True)
    for _ in range(FREE_FAILURES - 1):
        fail(throttle)  # a fresh allowance
    fail(throttle)
    assert throttle.admit("a") > 0
    clock.now += FIRST_DELAY + FORGET_AFTER + 1
    for _ in range(FREE_FAILURES):
        fail(throttle)


def test_parallel_attempts_count_before_they_finish() -> None:
    throttle = FailureThrottle(Clock())
    admitted = [throttle.admit("a") for _ in range(3 * FREE_FAILURES)]
    assert admitted.count(0) == FREE_FAILURES
    assert all(wait >= 1 for wait in admitted[FREE_FAILURES:])


@pytest.mark.parametrize("others", [MAX_CLIENTS - 1, MAX_CLIENTS])
def test_memory_is_bounded_by_forgetting_the_least_recently_seen(others: int) -> None:
    throttle = FailureThrottle(Clock())
    for _ in range(FREE_FAILURES):
        fail(throttle, "first")
    for number in range(others):
        fail(throttle, f"10.{number // 65536}.{number // 256 % 256}.{number % 256}")
    remembered = others < MAX_CLIENTS
    assert (throttle.admit("first") > 0) == remembered


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("fe80::1%eth0", "fe80::/64"),
        (None, "unknown"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_client_keys(address: str | None, key: str) -> None:
    assert client_key(address) == key
