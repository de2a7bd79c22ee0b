"""Benchmark: chained cron fire-time computation, tickwork vs APScheduler 3.11.

Each case computes 10,000 consecutive fire times (previous = last result, now = previous),
as the engine does in its hot path. Every case runs 5 times; the table shows medians and
the speed-up ratio (APScheduler time / tickwork time). Run: python bench/bench_triggers.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger as ApsCron

from tickwork.triggers import CronTrigger

FIRES = 10_000
REPEATS = 5
START = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("every 5 min (*/5 * * * *)", {"minute": "*/5"}, "UTC"),
    ("0 9 * * mon-fri", {"minute": "0", "hour": "9", "day_of_week": "mon-fri"}, "UTC"),
    ("0 0 last * *", {"minute": "0", "hour": "0", "day": "last"}, "UTC"),
    ("30 2 * * * Europe/Berlin", {"minute": "30", "hour": "2"}, "Europe/Berlin"),
    ("every 15 s (second */15)", {"second": "*/15"}, "UTC"),
]


def _run(next_time: Callable[[datetime | None, datetime], datetime | None]) -> float:
    previous: datetime | None = None
    now = START
    began = time.perf_counter()
    for _ in range(FIRES):
        result = next_time(previous, now)
        assert result is not None
        previous = now = result
    return time.perf_counter() - began


def main() -> None:
    print(f"{FIRES} chained fire times, median of {REPEATS} runs")
    print(f"{'case':<28} {'tickwork (ms)':>14} {'APScheduler (ms)':>17} {'ratio':>7}")
    for label, fields, zone_name in CASES:
        zone = ZoneInfo(zone_name)
        ours = CronTrigger(**fields, timezone=zone)
        theirs = ApsCron(**fields, timezone=zone)
        ours_times = [_run(ours.next_fire_time) for _ in range(REPEATS)]
        theirs_times = [_run(theirs.get_next_fire_time) for _ in range(REPEATS)]
        ours_ms = statistics.median(ours_times) * 1000
        theirs_ms = statistics.median(theirs_times) * 1000
        print(f"{label:<28} {ours_ms:>14.1f} {theirs_ms:>17.1f} {theirs_ms / ours_ms:>6.1f}x")


if __name__ == "__main__":
    main()
