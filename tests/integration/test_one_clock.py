"""Every time decision follows the scheduler's clock: a ManualClock far from the host's
time drives the defaults of triggers built through the scheduler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tickwork import ManualClock, Scheduler
from tickwork.triggers import CalendarIntervalTrigger, DateTrigger, IntervalTrigger

START = datetime(2041, 6, 1, 12, 0, tzinfo=UTC)  # far from the host's clock


def test_trigger_defaults_count_from_the_schedulers_clock(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler(clock=ManualClock(START))
    interval = scheduler.add_job("tests.jobs:record", "interval", minutes=5, id="interval")
    once = scheduler.add_job("tests.jobs:record", "date", id="date")
    daily = scheduler.add_job("tests.jobs:record", "calendarinterval", days=1, id="daily")
    combined = scheduler.add_job(
        "tests.jobs:record",
        "or",
        triggers=[{"type": "interval", "hours": 1}, {"type": "date"}],
        id="or",
    )
    assert isinstance(interval.trigger, IntervalTrigger)
    assert interval.trigger.start_date == START + timedelta(minutes=5)
    assert interval.next_run_time == START + timedelta(minutes=5)
    assert isinstance(once.trigger, DateTrigger)
    assert once.trigger.run_date == START
    assert isinstance(daily.trigger, CalendarIntervalTrigger)
    assert daily.trigger.start_date == START.date()
    assert combined.next_run_time == START
