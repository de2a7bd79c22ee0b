"""The timer of run timeouts: who wins between a run's end and its deadline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from tests.conftest import eventually
from tickwork.engine.deadlines import Deadlines
from tickwork.executors.base import Finished, success
from tickwork.store.base import Fire
from tickwork.supervision import Health

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _fire(job_id: str, timeout: float) -> Fire:
    return Fire(job_id, "tests.jobs:record", [], {}, "default", T0, None, timeout=timeout)


def _ended(fire: Fire) -> Finished:
    return success(fire, T0, T0 + timedelta(seconds=1), "done")


def test_the_first_of_end_and_deadline_wins_and_the_loser_is_dropped() -> None:
    deadlines = Deadlines(Health())
    expired: list[str] = []
    lock = threading.Lock()

    def expire(fire: Fire, started: datetime) -> None:
        assert started == T0
        with lock:
            expired.append(fire.job_id)

    quick, slow = _fire("quick", 0.05), _fire("slow", 0.1)
    deadlines.arm(quick, T0, expire)
    deadlines.arm(slow, T0, expire)
    assert deadlines.settle(_ended(quick))  # ended in time: its outcome stands
    eventually(lambda: expired == ["slow"])  # the earlier deadline was disarmed
    assert deadlines.overdue == 1
    assert not deadlines.settle(_ended(slow))  # too late: not recorded
    assert deadlines.overdue == 0
    assert deadlines.settle(_ended(_fire("never armed", 1)))


def test_runs_ending_early_under_a_century_long_timeout_never_expire_nor_delay_others() -> None:
    deadlines = Deadlines(Health())
    never: list[Fire] = []
    for index in range(1000):
        fire = Fire(f"j{index}", "m:f", [], {}, "default", T0, None, timeout=3e9)
        deadlines.arm(fire, T0, lambda fire, _at: never.append(fire))
        assert deadlines.settle(_ended(fire))
    short = _fire("short", 0.01)
    done = threading.Event()
    deadlines.arm(short, T0, lambda _fire, _at: done.set())
    assert done.wait(10)
    assert never == []
    assert deadlines.overdue == 1
