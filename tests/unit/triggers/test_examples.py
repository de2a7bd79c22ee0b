"""Example-based tests: every trigger, every expression form, DST days, errors, round trips."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tickwork.exceptions import TriggerArgumentError
from tickwork.triggers import (
    AndTrigger,
    CalendarIntervalTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
    Trigger,
    build_trigger,
    trigger_from_dict,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(trigger: Trigger, now: datetime, count: int) -> list[str]:
    """Chain ``count`` fire times and show them as ISO strings (offset included)."""
    out: list[str] = []
    previous = None
    for _ in range(count):
        result = trigger.next_fire_time(previous, now)
        if result is None:
            break
        out.append(result.isoformat())
        previous = now = result
    return out


# -- cron expressions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "now", "expected"),
    [
        ({"minute": "*/20"}, datetime(2026, 1, 1, 10, 5), ["10:20", "10:40", "11:00"]),
        ({"minute": "10-12"}, datetime(2026, 1, 1, 10, 11, 30), ["10:12", "11:10", "11:11"]),
        ({"minute": "10-40/15"}, datetime(2026, 1, 1, 10, 0), ["10:10", "10:25", "10:40"]),
        ({"minute": "50/5"}, datetime(2026, 1, 1, 10, 0), ["10:50", "10:55", "11:50"]),
        ({"minute": "5,1, 3"}, datetime(2026, 1, 1, 10, 2), ["10:03", "10:05", "11:01"]),
        ({"hour": "9"}, datetime(2026, 1, 1, 10, 0), ["09:00", "09:00", "09:00"]),
    ],
)
def test_cron_numeric_forms(fields: dict[str, str], now: datetime, expected: list[str]) -> None:
    trigger = CronTrigger(**fields, timezone="UTC")  # type: ignore[arg-type]
    got = fires(trigger, now.replace(tzinfo=UTC), 3)
    assert [value[11:16] for value in got] == expected


def test_cron_names_and_defaults() -> None:
    trigger = CronTrigger(day_of_week="MON-fri", hour=9, timezone="UTC")
    assert fires(trigger, datetime(2026, 1, 2, 10, tzinfo=UTC), 2) == [
        "2026-01-05T09:00:00+00:00",  # Friday 10:00 -> Monday 09:00:00 (minute, second = 0)
        "2026-01-06T09:00:00+00:00",
    ]
    assert trigger.fields["minute"] == "0"
    assert trigger.fields["month"] == "*"
    months = CronTrigger(month="feb,jun-jul", timezone="UTC")  # day/hour... default to min
    assert fires(months, datetime(2026, 1, 1, tzinfo=UTC), 3) == [
        "2026-02-01T00:00:00+00:00",
        "2026-06-01T00:00:00+00:00",
        "2026-07-01T00:00:00+00:00",
    ]


def test_cron_last_and_nth_weekday() -> None:
    last = CronTrigger(day="last", timezone="UTC")
    assert fires(last, datetime(2028, 1, 31, 1, tzinfo=UTC), 2) == [
        "2028-02-29T00:00:00+00:00",
        "2028-03-31T00:00:00+00:00",
    ]
    second_friday = CronTrigger(day="2nd fri", hour=8, timezone="UTC")
    assert fires(second_friday, datetime(2026, 1, 1, tzinfo=UTC), 2) == [
        "2026-01-09T08:00:00+00:00",
        "2026-02-13T08:00:00+00:00",
    ]
    last_friday = CronTrigger(day="last fri", timezone="UTC")
    assert fires(last_friday, datetime(2026, 1, 1, tzinfo=UTC), 1) == ["2026-01-30T00:00:00+00:00"]
    fifth_monday = CronTrigger(day="5th mon", timezone="UTC")
    assert fires(fifth_monday, datetime(2026, 1, 1, tzinfo=UTC), 1) == ["2026-03-30T00:00:00+00:00"]


def test_cron_week_year_and_bounds() -> None:
    trigger = CronTrigger(year="2026", week=2, day_of_week="wed", timezone="UTC")
    assert fires(trigger, datetime(2025, 6, 1, tzinfo=UTC), 2) == ["2026-01-07T00:00:00+00:00"]
    bounded = CronTrigger(
        hour=12, start_date="2026-05-01", end_date=date(2026, 5, 3), timezone=BERLIN
    )
    assert fires(bounded, datetime(2020, 1, 1, tzinfo=UTC), 5) == [
        "2026-05-01T12:00:00+02:00",
        "2026-05-02T12:00:00+02:00",
    ]
    never = CronTrigger(month="feb", day=30, timezone="UTC")
    assert never.next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_from_crontab_uses_crontab_weekdays() -> None:
    trigger = CronTrigger.from_crontab("0 9 * * 1-5", timezone=BERLIN)
    assert trigger.to_dict()["day_of_week"] == "mon-fri"
    assert str(trigger) == "cron[month='*', day='*', day_of_week='mon-fri', hour='9', minute='0']"
    sunday = CronTrigger.from_crontab("30 2 * * 0,7", timezone="UTC")
    assert sunday.to_dict()["day_of_week"] == "sun"
    assert CronTrigger.from_crontab("0 0 * * 0-2", timezone="UTC").fields["day_of_week"] == (
        "mon-tue,sun"
    )
    assert CronTrigger.from_crontab("0 0 * * */2", timezone="UTC").fields["day_of_week"] == (
        "tue,thu,sat-sun"
    )
    assert CronTrigger.from_crontab("0 0 * * sat", timezone="UTC").fields["day_of_week"] == "sat"
    with pytest.raises(TriggerArgumentError, match="crontab"):
        CronTrigger.from_crontab("0 9 * *")
    with pytest.raises(TriggerArgumentError, match="day_of_week"):
        CronTrigger.from_crontab("0 9 * * 8")


# -- DST: the documented behaviour (docs/triggers.md) ---------------------------------


def test_cron_0230_berlin_spring_forward_and_fall_back() -> None:
    trigger = CronTrigger(hour=2, minute=30, timezone="Europe/Berlin")
    # 2026-03-29 has no 02:30: it fires at 03:30 CEST (the instant 02:30 CET would be).
    assert fires(trigger, datetime(2026, 3, 28, 12, tzinfo=BERLIN), 2) == [
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]
    # 2026-10-25 has 02:30 twice: a fixed-hour job fires at the first one only.
    assert fires(trigger, datetime(2026, 10, 24, 12, tzinfo=BERLIN), 2) == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_cron_0230_new_york() -> None:
    trigger = CronTrigger(hour=2, minute=30, timezone=NEW_YORK)
    assert fires(trigger, datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), 2) == [
        "2026-03-08T03:30:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]
    # 01:30 repeats in New York (02:00 EDT -> 01:00 EST); 02:30 exists once.
    assert fires(trigger, datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), 2) == [
        "2026-11-01T02:30:00-05:00",
        "2026-11-02T02:30:00-05:00",
    ]
    repeated = CronTrigger(hour=1, minute=30, timezone=NEW_YORK)
    assert fires(repeated, datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), 2) == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
    ]


def test_cron_every_hour_keeps_running_through_the_repeated_hour() -> None:
    trigger = CronTrigger(minute="*/30", timezone=NEW_YORK)
    assert fires(trigger, datetime(2026, 11, 1, 0, 50, tzinfo=NEW_YORK), 5) == [
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


def test_cron_every_20_minutes_through_the_repeated_hour() -> None:
    trigger = CronTrigger(minute="*/20", timezone=BERLIN)
    start = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # first pass, CEST
    assert fires(trigger, start, 4) == [
        "2026-10-25T02:40:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:20:00+01:00",
        "2026-10-25T02:40:00+01:00",
    ]


def test_interval_adds_absolute_time_across_dst() -> None:
    trigger = IntervalTrigger(hours=24, start_date="2026-03-28 12:00:00", timezone=BERLIN)
    assert fires(trigger, datetime(2026, 3, 28, tzinfo=BERLIN), 3) == [
        "2026-03-28T12:00:00+01:00",
        "2026-03-29T13:00:00+02:00",
        "2026-03-30T13:00:00+02:00",
    ]
    hourly = IntervalTrigger(hours=1, start_date=datetime(2026, 11, 1, 0, 30), timezone=NEW_YORK)
    assert fires(hourly, datetime(2026, 11, 1, tzinfo=NEW_YORK), 3) == [
        "2026-11-01T00:30:00-04:00",
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:30:00-05:00",
    ]


def test_calendarinterval_dst_and_missing_days() -> None:
    daily = CalendarIntervalTrigger(
        days=1, hour=2, minute=30, start_date="2026-03-28", timezone=BERLIN
    )
    assert fires(daily, datetime(2026, 3, 28, tzinfo=BERLIN), 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",  # gap: moved forward, not skipped
        "2026-03-30T02:30:00+02:00",
    ]
    assert fires(daily, datetime(2026, 10, 25, tzinfo=BERLIN), 2) == [
        "2026-10-25T02:30:00+02:00",  # fold: first occurrence only
        "2026-10-26T02:30:00+01:00",
    ]
    monthly = CalendarIntervalTrigger(months=1, hour=9, start_date="2026-01-31", timezone=NEW_YORK)
    assert fires(monthly, datetime(2026, 1, 1, tzinfo=NEW_YORK), 3) == [
        "2026-01-31T09:00:00-05:00",
        "2026-03-31T09:00:00-04:00",  # no Feb 31
        "2026-05-31T09:00:00-04:00",
    ]
    # previous=None starts at or after now, fast-forwarding over past dates.
    assert fires(monthly, datetime(2030, 6, 1, tzinfo=NEW_YORK), 1) == ["2030-07-31T09:00:00-04:00"]
    weekly = CalendarIntervalTrigger(
        weeks=1, days=1, start_date="2026-01-01", end_date="2026-01-17"
    )
    assert len(fires(weekly, datetime(2026, 1, 1, tzinfo=UTC), 5)) == 3
    yearly = CalendarIntervalTrigger(years=1, months=1, start_date="2024-02-29", timezone="UTC")
    assert fires(yearly, datetime(2024, 1, 1, tzinfo=UTC), 2) == [
        "2024-02-29T00:00:00+00:00",
        "2025-03-29T00:00:00+00:00",
    ]


# -- interval grid, jitter, defaults --------------------------------------------------


def test_interval_grid_and_jitter_never_drift() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = IntervalTrigger(minutes=10, start_date=start, jitter=30, timezone="UTC")
    previous = None
    now = start
    for k in range(20):
        result = trigger.next_fire_time(previous, now)
        assert result is not None
        grid = start + timedelta(minutes=10 * k)
        assert grid <= result <= grid + timedelta(seconds=30)
        previous = now = result
    assert trigger.next_fire_time(None, start + timedelta(minutes=15)) is not None


def test_interval_default_start_and_end() -> None:
    before = datetime.now(UTC)
    trigger = IntervalTrigger(minutes=5, timezone="UTC")
    after = datetime.now(UTC)
    assert before + timedelta(minutes=5) <= trigger.start_date <= after + timedelta(minutes=5)
    ending = IntervalTrigger(seconds=30, start_date=before, end_date=before + timedelta(seconds=60))
    assert len(fires(ending, before, 10)) == 3


def test_date_trigger() -> None:
    trigger = DateTrigger("2026-07-01 10:00:00", timezone=BERLIN)
    assert trigger.next_fire_time(None, datetime(2030, 1, 1, tzinfo=UTC)) == trigger.run_date
    assert trigger.next_fire_time(trigger.run_date, trigger.run_date) is None
    assert trigger.run_date.isoformat() == "2026-07-01T10:00:00+02:00"
    assert DateTrigger(date(2026, 7, 1), timezone="UTC").run_date.hour == 0
    assert str(trigger) == "date[2026-07-01 10:00:00 CEST]"


# -- combining ----------------------------------------------------------------------


def test_and_or() -> None:
    both = AndTrigger(
        [CronTrigger(day_of_week="fri", timezone="UTC"), CronTrigger(day=13, timezone="UTC")]
    )
    assert fires(both, datetime(2026, 1, 1, tzinfo=UTC), 2) == [
        "2026-02-13T00:00:00+00:00",
        "2026-03-13T00:00:00+00:00",
    ]
    either = OrTrigger([CronTrigger(hour=9, timezone="UTC"), CronTrigger(hour=17, timezone="UTC")])
    assert [t[11:16] for t in fires(either, datetime(2026, 1, 1, tzinfo=UTC), 3)] == [
        "09:00",
        "17:00",
        "09:00",
    ]
    assert str(either) == "or[cron[hour='9'], cron[hour='17']]"
    # Two grids that never meet: bounded search, no endless loop.
    never = AndTrigger(
        [
            IntervalTrigger(seconds=2, start_date="2026-01-01T00:00:00+00:00"),
            IntervalTrigger(seconds=2, start_date="2026-01-01T00:00:01+00:00"),
        ]
    )
    assert never.next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC)) is None
    done = OrTrigger([DateTrigger("2026-01-01T00:00:00+00:00")])
    assert (
        done.next_fire_time(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
        is None
    )


# -- serialisation ------------------------------------------------------------------


def all_kinds() -> list[Trigger]:
    return [
        DateTrigger("2026-01-01 10:00:00", timezone=BERLIN),
        IntervalTrigger(
            minutes=90,
            seconds=1.5,
            start_date="2026-01-01",
            end_date="2027-01-01",
            timezone="UTC",
            jitter=5,
        ),
        CronTrigger(
            hour="9",
            minute=0,
            day_of_week="mon-fri",
            start_date="2026-10-25 02:30:00+01:00",
            timezone=BERLIN,
        ),
        CalendarIntervalTrigger(
            years=1, months=14, hour=3, start_date="2026-01-31", timezone=NEW_YORK
        ),
        AndTrigger(
            [
                CronTrigger(day="last fri", timezone="UTC"),
                CronTrigger(month="jan-mar", timezone="UTC"),
            ]
        ),
        OrTrigger(
            [CronTrigger(hour=1, timezone=UTC), DateTrigger("2026-01-01T00:00:00Z")],
            jitter=1,
        ),
    ]


@pytest.mark.parametrize("trigger", all_kinds(), ids=lambda t: t.kind)
def test_round_trip(trigger: Trigger) -> None:
    data = trigger.to_dict()
    restored = trigger_from_dict(json.loads(json.dumps(data)))
    assert restored == trigger
    assert restored.to_dict() == data
    assert type(restored) is type(trigger)
    assert hash(restored) == hash(trigger)
    assert repr(trigger).startswith("<")


def test_to_dict_shapes() -> None:
    cron = CronTrigger(hour=9, minute="0", timezone=BERLIN, start_date="2026-01-01 00:00:00")
    assert cron.to_dict() == {
        "type": "cron",
        "hour": "9",
        "minute": "0",
        "start_date": "2026-01-01T00:00:00+01:00",
        "end_date": None,
        "timezone": "Europe/Berlin",
        "jitter": None,
    }
    assert str(cron) == "cron[hour='9', minute='0']"
    interval = IntervalTrigger(minutes=90, start_date="2026-01-01T00:00:00+00:00").to_dict()
    assert (interval["weeks"], interval["days"], interval["hours"], interval["minutes"]) == (
        0,
        0,
        1,
        30,
    )
    assert isinstance(interval["timezone"], str)  # no zone given: the local zone's name


def test_build_trigger() -> None:
    cron = build_trigger("cron", timezone="Europe/Berlin", hour=9)
    assert isinstance(cron, CronTrigger)
    assert cron.timezone == BERLIN
    # Children given as dicts with their own zone keep it; others get the default.
    mixed = build_trigger(
        "and",
        timezone=BERLIN,
        triggers=[{"type": "cron", "hour": 1, "timezone": "UTC"}, {"type": "cron"}],
    )
    assert isinstance(mixed, AndTrigger)
    assert [child.to_dict()["timezone"] for child in mixed.triggers] == ["UTC", "Europe/Berlin"]
    assert build_trigger(cron) is cron
    nested = build_trigger("or", timezone="UTC", triggers=[{"type": "cron", "hour": 1}, cron])
    assert isinstance(nested, OrTrigger)
    assert build_trigger("date", run_date="2026-01-01").to_dict()["timezone"]  # local zone


# -- bad arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: build_trigger("crontab"), "trigger"),
        (lambda: build_trigger("cron", hours=1), "hours"),
        (lambda: build_trigger("interval", minute=1), "minute"),
        (lambda: build_trigger(CronTrigger(timezone="UTC"), hour=1), "hour"),
        (lambda: trigger_from_dict({"type": "nope"}), "type"),
        (lambda: trigger_from_dict({"type": "cron", "bogus": 1}), "bogus"),
        (lambda: CronTrigger(hour=24), "hour"),
        (lambda: CronTrigger(minute="*/60"), "minute"),
        (lambda: CronTrigger(minute="*/0"), "minute"),
        (lambda: CronTrigger(minute="5-3"), "minute"),
        (lambda: CronTrigger(second="1-2/5"), "second"),
        (lambda: CronTrigger(year=1969), "year"),
        (lambda: CronTrigger(day=0), "day"),
        (lambda: CronTrigger(day="6th fri"), "day"),
        (lambda: CronTrigger(day="last foo"), "day"),
        (lambda: CronTrigger(day_of_week="mon-fri/2"), "day_of_week"),
        (lambda: CronTrigger(day_of_week="fri-mon"), "day_of_week"),
        (lambda: CronTrigger(month="janu"), "month"),
        (lambda: CronTrigger(hour="9,"), "hour"),
        (lambda: CronTrigger(hour=""), "hour"),
        (lambda: CronTrigger(hour=True), "hour"),
        (lambda: CronTrigger(hour=9.5), "hour"),  # type: ignore[arg-type]
        (lambda: CronTrigger(hour="last"), "hour"),
        (lambda: CronTrigger(timezone="Mars/Olympus"), "timezone"),
        (lambda: CronTrigger(timezone="EST5EDT "), "timezone"),
        (lambda: CronTrigger(timezone=timezone(timedelta(hours=2))), "timezone"),
        (lambda: CronTrigger(timezone=3), "timezone"),
        (lambda: CronTrigger(start_date="tomorrow", timezone="UTC"), "start_date"),
        (lambda: CronTrigger(end_date=12, timezone="UTC"), "end_date"),
        (
            lambda: CronTrigger(start_date="2026-02-01", end_date="2026-01-01", timezone="UTC"),
            "end_date",
        ),
        (lambda: CronTrigger(jitter=-1, timezone="UTC"), "jitter"),
        (lambda: IntervalTrigger(timezone="UTC"), "seconds"),
        (lambda: IntervalTrigger(minutes=-1, timezone="UTC"), "minutes"),
        (lambda: IntervalTrigger(hours="1", timezone="UTC"), "hours"),  # type: ignore[arg-type]
        (
            lambda: IntervalTrigger(
                seconds=1, start_date="2026-02-01", end_date="2026-01-01", timezone="UTC"
            ),
            "end_date",
        ),
        (lambda: DateTrigger("2026-13-01", timezone="UTC"), "run_date"),
        (lambda: CalendarIntervalTrigger(timezone="UTC"), "days"),
        (lambda: CalendarIntervalTrigger(days=1, hour=24, timezone="UTC"), "hour"),
        (lambda: CalendarIntervalTrigger(months=-1, timezone="UTC"), "months"),
        (
            lambda: CalendarIntervalTrigger(
                days=1, start_date="2026-02-01", end_date="2026-01-01", timezone="UTC"
            ),
            "end_date",
        ),
        (lambda: AndTrigger([]), "triggers"),
        (lambda: OrTrigger(["cron"]), "triggers"),  # type: ignore[list-item]
    ],
)
def test_bad_arguments(call: object, field: str) -> None:
    with pytest.raises(TriggerArgumentError) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("trigger", all_kinds(), ids=lambda t: t.kind)
def test_naive_now_or_previous_rejected(trigger: Trigger) -> None:
    with pytest.raises(TriggerArgumentError, match="now"):
        trigger.next_fire_time(None, datetime(2026, 1, 1))
    with pytest.raises(TriggerArgumentError, match="previous"):
        trigger.next_fire_time(datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=UTC))


def test_cron_match_right_after_a_gap_is_not_hidden_by_shifted_gap_times() -> None:
    """Lord Howe skips 02:00-02:29; 02:01 shifted by the gap (02:31) must not come before
    the real 02:30, which matches too (found by the APScheduler oracle)."""
    zone = "Australia/Lord_Howe"
    trigger = CronTrigger(minute="1-59", timezone=zone)
    start = datetime(2026, 10, 4, 1, 59, 30, tzinfo=ZoneInfo(zone))
    assert fires(trigger, start, 3) == [
        "2026-10-04T02:30:00+11:00",
        "2026-10-04T02:31:00+11:00",
        "2026-10-04T02:32:00+11:00",
    ]
