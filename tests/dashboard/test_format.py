"""How values read: format.js's summaries and durations, evaluated in the browser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.dashboard.conftest import Dashboard

TRIGGERS = [
    ({"trigger": "interval", "hours": 1, "minutes": 30}, "every 1 h 30 min"),
    ({"trigger": "interval", "seconds": 1}, "every second"),
    ({"trigger": "interval", "seconds": 2.5, "jitter": 3}, "every 2.5 s, ±3 s jitter"),
    ({"trigger": "interval", "weeks": 2}, "every 2 weeks"),
    ({"trigger": "interval", "days": 1, "hours": 12}, "every 1 day 12 h"),
    ({"trigger": "cron", "hour": "9", "minute": "30", "timezone": "UTC"}, "daily at 09:30"),
    ({"trigger": "cron", "hour": "2", "timezone": "UTC"}, "daily at 02:00"),
    (
        {"trigger": "cron", "day_of_week": "mon-fri", "hour": "9", "timezone": "Europe/Berlin"},
        "at 09:00 on mon-fri (Europe/Berlin)",
    ),
    ({"trigger": "cron", "minute": "15", "timezone": "UTC"}, "hourly at :15"),
    (
        {"trigger": "cron", "minute": "*/5", "hour": "9-17", "timezone": "UTC"},
        "cron hour=9-17 minute=*/5",
    ),
    (
        {"trigger": "calendarinterval", "months": 1, "hour": 6, "minute": 0, "second": 0},
        "every 1 month at 06:00",
    ),
    ({"trigger": "calendarinterval", "years": 1, "weeks": 2}, "every 1 year 2 weeks at 00:00"),
    (
        {"trigger": "date", "run_date": "2026-07-01T08:00:00+00:00"},
        "once at Jul 1, 2026, 8:00:00 AM",
    ),
    (
        {
            "trigger": "or",
            "triggers": [
                {
                    "type": "interval",
                    "weeks": 0,
                    "days": 0,
                    "hours": 0,
                    "minutes": 10,
                    "seconds": 0,
                },
                {"type": "cron", "hour": "9", "timezone": "UTC"},
            ],
        },
        "any of: every 10 min; daily at 09:00",
    ),
]

DURATIONS = [
    (None, ""),
    (0.0004, "<1 ms"),
    (0.25, "250 ms"),
    (1.234, "1.23 s"),
    (75, "1 min 15 s"),
    (3725, "1 h 2 min"),
]


@pytest.fixture
def format_module(sqlite_dashboard: Dashboard, page: Page) -> Any:
    page.goto(sqlite_dashboard.url)

    def call(function: str, *args: Any) -> Any:
        return page.evaluate(
            "async ([name, args]) => (await import('./format.js'))[name](...args)",
            [function, list(args)],
        )

    return call


def test_trigger_summaries(format_module: Any) -> None:
    assert [format_module("triggerSummary", job) for job, _ in TRIGGERS] == [
        text for _, text in TRIGGERS
    ]


def test_durations(format_module: Any) -> None:
    assert [format_module("duration", seconds) for seconds, _ in DURATIONS] == [
        text for _, text in DURATIONS
    ]


def test_relative_times_round_to_the_nearest_unit(format_module: Any) -> None:
    now = 1_800_000_000_000
    cases = {
        -5: "5 sec. ago",
        30: "in 30 sec.",
        3599: "in 1 hr.",
        90 * 60: "in 2 hr.",
        3 * 86400: "in 3 days",
    }
    for offset, text in cases.items():
        iso = page_iso(now + offset * 1000)
        assert format_module("relative", iso, now) == text
    assert format_module("age", page_iso(now + 5000), now) == "0 s ago"  # a clock ahead


def page_iso(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat()
