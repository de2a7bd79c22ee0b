"""Hypothesis strategies shared by the oracle tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]

#: DST transition instants (UTC) for the zones above, 2025-2027: start times cluster here.
TRANSITIONS = [
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Berlin spring forward
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Berlin fall back
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York spring forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York fall back
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe fall back (02:00 -> 01:30)
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe spring forward (02:00 -> 02:30)
    datetime(2025, 10, 26, 1, tzinfo=UTC),
    datetime(2027, 3, 28, 1, tzinfo=UTC),
]

zones = st.sampled_from(ZONES).map(ZoneInfo)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Aware UTC instants, half of them within a few hours of a DST transition."""
    if draw(st.booleans()):
        base = draw(st.sampled_from(TRANSITIONS))
        offset = timedelta(seconds=draw(st.integers(-4 * 3600, 4 * 3600)))
        moment = base + offset
    else:
        moment = draw(
            st.datetimes(datetime(2024, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC))
        )
    if draw(st.integers(0, 3)) == 0:
        moment = moment.replace(microsecond=draw(st.integers(0, 999_999)))
    else:
        moment = moment.replace(microsecond=0)
    return moment


def _numeric_term(draw: st.DrawFn, low: int, high: int) -> str:
    kind = draw(st.sampled_from(["*", "*/n", "a", "a-b", "a-b/n", "a/n"]))
    if kind == "*":
        return "*"
    if kind == "*/n":
        return f"*/{draw(st.integers(1, max(1, (high - low) // 2)))}"
    first = draw(st.integers(low, high))
    if kind == "a":
        return str(first)
    if kind == "a/n":
        if first == high:
            return str(first)
        return f"{first}/{draw(st.integers(1, high - first))}"
    if first == high:
        return str(first)
    last = draw(st.integers(first + 1, high))
    if kind == "a-b":
        return f"{first}-{last}"
    return f"{first}-{last}/{draw(st.integers(1, last - first))}"


def _field(draw: st.DrawFn, name: str) -> str:
    bounds = {
        "month": (1, 12),
        "day": (1, 31),
        "week": (1, 53),
        "day_of_week": (0, 6),
        "hour": (0, 23),
        "minute": (0, 59),
        "second": (0, 59),
    }
    low, high = bounds[name]
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        special = draw(st.integers(0, 3)) == 0
        if special and name == "month":
            names = [
                "jan",
                "feb",
                "mar",
                "apr",
                "may",
                "jun",
                "jul",
                "aug",
                "sep",
                "oct",
                "nov",
                "dec",
            ]
            a = draw(st.integers(0, 11))
            b = draw(st.integers(a, 11))
            terms.append(names[a] if a == b else f"{names[a]}-{names[b]}")
        elif special and name == "day_of_week":
            names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            a = draw(st.integers(0, 6))
            b = draw(st.integers(a, 6))
            terms.append(names[a] if a == b else f"{names[a].upper()}-{names[b]}")
        elif special and name == "day":
            weekday = draw(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
            position = draw(st.sampled_from(["1st", "2nd", "3rd", "4th", "5th", "last", "LAST"]))
            terms.append(draw(st.sampled_from(["last", f"{position} {weekday}"])))
        else:
            terms.append(_numeric_term(draw, low, high))
    return ",".join(terms)


@st.composite
def cron_fields(draw: st.DrawFn) -> dict[str, str]:
    """Random cron keyword arguments (1-4 fields) that APScheduler 3 also accepts."""
    names = ["month", "day", "week", "day_of_week", "hour", "minute", "second"]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    fields = {name: _field(draw, name) for name in chosen}
    if draw(st.integers(0, 9)) == 0:
        fields["year"] = draw(st.sampled_from(["*", "2026", "2025-2027", "2026,2028", "*/2"]))
    return fields
