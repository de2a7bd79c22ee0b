"""The ``cron`` trigger: fires when the wall-clock time matches every field.

How the search works, and why it is fast: each field is compiled once into a sorted set of
allowed values. ``next_fire_time`` converts the start instant to wall-clock fields in the
trigger's zone, finds the next matching wall-clock time with a handful of bisections
(days of a month are computed once per month and cached), and only then maps that wall
time back to an instant. DST is handled in that last mapping:

* a wall time inside a gap (02:30 on spring-forward day) moves forward by the gap's length
  (fires at 03:30 local) - the instant APScheduler 3.11 fires at;
* a wall time that occurs twice (02:30 on fall-back day) fires at both occurrences, in
  order - again what APScheduler 3.11 does, and consistent with "every instant whose local
  time matches".
"""

from __future__ import annotations

from bisect import bisect_left
from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from tickwork.exceptions import TriggerArgumentError
from tickwork.limits import MAX_CRON_EXPRESSION
from tickwork.triggers._time import (
    UTC,
    apply_jitter,
    check_order,
    coerce_datetime,
    coerce_jitter,
    datetime_repr,
    iso,
    require_aware,
    resolve_timezone,
)
from tickwork.triggers.base import Trigger
from tickwork.triggers.cron.expressions import WEEKDAYS
from tickwork.triggers.cron.fields import (
    DEFAULT_VALUES,
    FIELD_NAMES,
    CompiledField,
    compile_field,
    split_terms,
)

__all__ = ["CronTrigger"]

_ONE_SECOND = timedelta(seconds=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
_CACHE_LIMIT = 1024
_NAIVE_UTC_MAX = datetime(9999, 12, 31, 23, 59, 59)

_Wall = tuple[int, int, int, int, int, int]
#: No DST change moves clocks by more than this; farther from one, local time is simple.
_NEAR = timedelta(hours=3)
_MONTH_LENGTHS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _as_expression(field: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TriggerArgumentError(field, value, "expected a cron expression string or integer")
    if isinstance(value, int) and not -(10**9) < value < 10**9:
        raise TriggerArgumentError(field, value, "out of range")
    text = str(value).strip()
    if not text:
        raise TriggerArgumentError(field, value, "empty cron expression")
    if len(text) > MAX_CRON_EXPRESSION:
        raise TriggerArgumentError(field, text, f"longer than {MAX_CRON_EXPRESSION} characters")
    return text


class CronTrigger(Trigger):
    """Fires at every instant whose wall-clock time in ``timezone`` matches all fields.

    Arguments and defaults are APScheduler 3's: fields less significant than the least
    significant one given default to their minimum, more significant ones to ``*``;
    ``day_of_week`` counts from 0 = Monday. ``start_date`` and ``end_date`` are inclusive
    bounds.
    """

    kind: ClassVar[str] = "cron"
    FIELDS: ClassVar[frozenset[str]] = frozenset(
        (*FIELD_NAMES, "start_date", "end_date", "timezone", "jitter")
    )

    __slots__ = (
        "_day",
        "_day_cache",
        "_dow",
        "_end",
        "_end_utc",
        "_fields",
        "_first_time",
        "_given",
        "_hours",
        "_jitter",
        "_last_year",
        "_minutes",
        "_months",
        "_never",
        "_seconds",
        "_start",
        "_start_utc",
        "_timezone",
        "_weeks",
        "_years",
    )

    def __init__(
        self,
        *,
        year: int | str | None = None,
        month: int | str | None = None,
        day: int | str | None = None,
        week: int | str | None = None,
        day_of_week: int | str | None = None,
        hour: int | str | None = None,
        minute: int | str | None = None,
        second: int | str | None = None,
        start_date: object = None,
        end_date: object = None,
        timezone: object = None,
        jitter: float | None = None,
    ) -> None:
        raw = {
            "year": year,
            "month": month,
            "day": day,
            "week": week,
            "day_of_week": day_of_week,
            "hour": hour,
            "minute": minute,
            "second": second,
        }
        self._given = {
            name: _as_expression(name, value) for name, value in raw.items() if value is not None
        }
        last_given = max((FIELD_NAMES.index(name) for name in self._given), default=len(raw))
        fields: dict[str, CompiledField] = {}
        for index, name in enumerate(FIELD_NAMES):
            if name in self._given:
                expression = self._given[name]
            elif index > last_given:
                expression = DEFAULT_VALUES[name]
            else:
                expression = "*"
            fields[name] = compile_field(name, expression)
        self._fields = fields
        self._years = fields["year"].values
        self._months = tuple(fields["month"].values)
        self._day = fields["day"]
        self._weeks = None if fields["week"].is_full else frozenset(fields["week"].values)
        self._dow = (
            None if fields["day_of_week"].is_full else frozenset(fields["day_of_week"].values)
        )
        self._hours = tuple(fields["hour"].values)
        # Like cron, only a job that runs every hour fires again when the clock falls back
        # and repeats an hour; a job at fixed hours fires once, at the first occurrence.
        self._every_hour = fields["hour"].is_full
        self._minutes = tuple(fields["minute"].values)
        self._seconds = tuple(fields["second"].values)
        self._first_time = (self._hours[0], self._minutes[0], self._seconds[0])
        # A plain day list no allowed month is long enough for (day=31, month=feb) can
        # never fire; knowing it up front spares a search through 8000 years.
        longest = max(_MONTH_LENGTHS[month] for month in self._months)
        self._never = not self._day.day_terms and self._day.values[0] > longest
        self._day_cache: dict[int, tuple[int, ...]] = {}

        self._timezone = resolve_timezone(timezone, start_date, end_date)
        self._start = (
            None
            if start_date is None
            else coerce_datetime(start_date, self._timezone, "start_date")
        )
        self._end = (
            None if end_date is None else coerce_datetime(end_date, self._timezone, "end_date")
        )
        check_order(self._start, self._end)
        self._start_utc = None if self._start is None else self._start.astimezone(UTC)
        self._end_utc = None if self._end is None else self._end.astimezone(UTC)
        # The wall-clock search never needs to look past end_date's year.
        self._last_year = 9999 if self._end is None else min(9999, self._end.year + 1)
        self._jitter = coerce_jitter(jitter)

    @classmethod
    def from_crontab(cls, expr: str, timezone: object = None) -> CronTrigger:
        """Build from a standard 5-field crontab line: minute hour day month day-of-week.

        Unlike APScheduler 3's ``from_crontab`` (which keeps its own 0 = Monday), the
        day-of-week field uses crontab numbering: 0 and 7 are Sunday, 1 is Monday. It is
        translated into weekday names, so ``to_dict`` shows e.g. ``"mon-fri"`` for
        ``1-5``. Day-of-month and day-of-week are combined with AND, as APScheduler does
        (Vixie cron would OR them when both are restricted).
        """
        if not isinstance(expr, str):
            raise TriggerArgumentError("crontab", expr, "expected a string")
        values = expr.split()
        if len(values) != 5:
            raise TriggerArgumentError("crontab", expr, f"expected 5 fields, got {len(values)}")
        minute, hour, day, month, day_of_week = values
        return cls(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(day_of_week),
            timezone=timezone,
        )

    # -- accessors ------------------------------------------------------------------

    @property
    def timezone(self) -> ZoneInfo:
        """The zone whose wall clock the fields are matched against."""
        return self._timezone

    @property
    def start_date(self) -> datetime | None:
        """The earliest possible fire time (inclusive)."""
        return self._start

    @property
    def end_date(self) -> datetime | None:
        """The latest possible fire time (inclusive)."""
        return self._end

    @property
    def fields(self) -> dict[str, str]:
        """Every field's effective expression, defaults included."""
        return {name: field.expression for name, field in self._fields.items()}

    # -- the search -----------------------------------------------------------------

    def _days_of(self, year: int, month: int) -> tuple[int, ...]:
        """Days of ``year-month`` allowed by day, week and day_of_week (cached)."""
        key = year * 12 + month
        days = self._day_cache.get(key)
        if days is not None:
            return days
        first_weekday, length = monthrange(year, month)
        day_field = self._day
        candidates = {value for value in day_field.values if value <= length}
        for term in day_field.day_terms:
            hit = term.day_in(year, month)
            if hit is not None:
                candidates.add(hit)
        dow, weeks = self._dow, self._weeks
        if dow is not None:
            candidates = {d for d in candidates if (first_weekday + d - 1) % 7 in dow}
        if weeks is not None:
            candidates = {d for d in candidates if date(year, month, d).isocalendar()[1] in weeks}
        days = tuple(sorted(candidates))
        if len(self._day_cache) >= _CACHE_LIMIT:
            self._day_cache.clear()
        self._day_cache[key] = days
        return days

    def _time_at_or_after(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        """First allowed time of day at or after ``hour:minute:second``, if any."""
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        h = bisect_left(hours, hour)
        if h < len(hours) and hours[h] == hour:
            m = bisect_left(minutes, minute)
            if m < len(minutes) and minutes[m] == minute:
                s = bisect_left(seconds, second)
                if s < len(seconds):
                    return hour, minute, seconds[s]
                m += 1
            if m < len(minutes):
                return hour, minutes[m], seconds[0]
            h += 1
        if h < len(hours):
            return hours[h], minutes[0], seconds[0]
        return None

    def _next_wall(  # noqa: PLR0917 - hot path: plain ints, no tuple packing
        self, y: int, mo: int, d: int, hour: int, minute: int, second: int
    ) -> _Wall | None:
        """First wall-clock time >= the given one matching every field, as a tuple."""
        years, months = self._years, self._months
        yi = bisect_left(years, y)
        first_time = self._first_time
        last_year = self._last_year
        while yi < len(years):
            year = years[yi]
            if year > last_year:
                return None
            same_year = year == y
            mi = bisect_left(months, mo) if same_year else 0
            while mi < len(months):
                month = months[mi]
                days = self._days_of(year, month)
                if same_year and month == mo:
                    di = bisect_left(days, d)
                    if di < len(days) and days[di] == d:
                        found = self._time_at_or_after(hour, minute, second)
                        if found is not None:
                            return (year, month, d, *found)
                        di += 1
                    if di < len(days):
                        return (year, month, days[di], *first_time)
                elif days:
                    return (year, month, days[0], *first_time)
                mi += 1
            yi += 1
        return None

    def _instant(self, wall: datetime, bound: datetime) -> datetime | None:
        """Earliest naive-UTC instant >= ``bound`` whose local time is ``wall``.

        Gap times map with the pre-transition offset (i.e. forward by the gap); times that
        occur twice have a second candidate only when the hour field is ``*``.
        """
        local = wall.replace(tzinfo=self._timezone)
        offset = local.utcoffset()
        other = local.replace(fold=1).utcoffset()
        assert offset is not None
        assert other is not None
        first = wall - offset
        if first >= bound:
            return first
        if other < offset and self._every_hour:  # ambiguous: the second occurrence is later
            second = wall - other
            if second >= bound:
                return second
        return None

    def _scan(self, wall: datetime, bound: datetime) -> datetime | None:
        """From wall time ``wall``, the first matching instant >= ``bound`` (naive UTC)."""
        while True:
            fields = self._next_wall(
                wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second
            )
            if fields is None:
                return None
            found = datetime(*fields)
            instant = self._instant(found, bound)
            if instant is not None:
                return self._earliest_after_gap(found, instant, bound)
            wall = found + _ONE_SECOND

    def _earliest_after_gap(self, wall: datetime, instant: datetime, bound: datetime) -> datetime:
        """``instant`` unless ``wall`` lies in a DST gap and a real wall time right after
        the gap matches too: moved forward by the gap, ``wall`` lands later in real time
        than such a match (Lord Howe: 02:01 becomes 02:31, after a matching 02:30)."""
        local = wall.replace(tzinfo=self._timezone)
        if local.astimezone(UTC).astimezone(self._timezone).replace(tzinfo=None) == wall:
            return instant  # the wall time exists
        after, before = local.replace(fold=1).utcoffset(), local.utcoffset()
        assert after is not None
        assert before is not None
        gap = abs(after - before)
        probe = wall + _ONE_SECOND
        while True:
            fields = self._next_wall(
                probe.year, probe.month, probe.day, probe.hour, probe.minute, probe.second
            )
            if fields is None:
                return instant
            candidate_wall = datetime(*fields)
            if candidate_wall >= wall + gap:
                return instant
            candidate = self._instant(candidate_wall, bound)
            if candidate is not None and candidate < instant:
                instant = candidate
            probe = candidate_wall + _ONE_SECOND

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        if self._never:
            return None
        if previous is not None:
            start = previous.astimezone(UTC) + _ONE_MICROSECOND
            if self._start_utc is not None and start < self._start_utc:
                start = self._start_utc
        else:
            start = now.astimezone(UTC)
            if self._start_utc is not None and start < self._start_utc:
                start = self._start_utc
        if start.microsecond:
            start += timedelta(microseconds=1_000_000 - start.microsecond)
        if self._end_utc is not None and start > self._end_utc:
            return None

        try:
            return self._search(start)
        except OverflowError:  # the search ran past year 9999
            return None

    def _search(self, start: datetime) -> datetime | None:
        """The first fire time at or after the whole-second UTC instant ``start``."""
        tz = self._timezone
        local = start.astimezone(tz)
        # Fast path: far from any DST change (checked at both ends), wall-clock order is
        # instant order and every wall time exists once, so the answer is the first
        # matching wall time, localised directly. This avoids the slow ``replace`` calls.
        utcoffset = tz.utcoffset
        offset = utcoffset(local)
        if utcoffset(local - _NEAR) == offset == utcoffset(local + _NEAR):
            fields = self._next_wall(
                local.year, local.month, local.day, local.hour, local.minute, local.second
            )
            if fields is None:
                return None
            wall = datetime(*fields)
            if utcoffset(wall - _NEAR) == utcoffset(wall) == utcoffset(wall + _NEAR):
                result = datetime(*fields, tzinfo=tz)
                return self._finish(result)
        return self._search_exact(start, local)

    def _finish(self, result: datetime) -> datetime | None:
        """Apply end_date and jitter to a fire time expressed in the trigger's zone."""
        end = self._end_utc
        if end is not None and result > end:
            return None
        if not self._jitter:
            return result
        result = apply_jitter(result, self._jitter)
        if end is not None and result > end:
            result = end.astimezone(self._timezone)
        return result

    def _search_exact(self, start: datetime, local: datetime) -> datetime | None:
        """Near DST changes: search wall times, then map each to its real instant(s)."""
        tz = self._timezone
        bound = start.replace(tzinfo=None)
        wall = local.replace(tzinfo=None, fold=0)
        found = self._scan(wall, bound)
        if local.fold == 0:
            offset = local.utcoffset()
            other = local.replace(fold=1).utcoffset()
            assert offset is not None
            assert other is not None
            if other < offset and self._every_hour:
                # ``start`` is in the first pass of a repeated hour; the second pass
                # revisits earlier wall times, which may hold an earlier match.
                again = self._scan(wall - (offset - other), bound)
                if again is not None and (found is None or again < found):
                    found = again
        if found is None or found > _NAIVE_UTC_MAX:
            return None
        return self._finish(found.replace(tzinfo=UTC).astimezone(tz))

    # -- serialisation and display ---------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.kind}
        data.update(self._given)
        data["start_date"] = iso(self._start)
        data["end_date"] = iso(self._end)
        data["timezone"] = self._timezone.key
        data["jitter"] = self._jitter
        return data

    def _options(self) -> list[str]:
        return [f"{name}='{self._given[name]}'" for name in FIELD_NAMES if name in self._given]

    def __str__(self) -> str:
        return f"cron[{', '.join(self._options())}]"

    def __repr__(self) -> str:
        options = self._options()
        if self._start is not None:
            options.append(f"start_date='{datetime_repr(self._start)}'")
        if self._end is not None:
            options.append(f"end_date='{datetime_repr(self._end)}'")
        if self._jitter:
            options.append(f"jitter={self._jitter}")
        options.append(f"timezone='{self._timezone.key}'")
        return f"<CronTrigger ({', '.join(options)})>"


def _crontab_weekdays(expression: str) -> str:
    """Translate a crontab day-of-week field (0/7 = Sunday) into weekday names.

    Names and ``*`` pass through; numeric terms are expanded and re-emitted as name ranges
    in Monday-first order, which is what :class:`CronTrigger` understands.
    """
    from tickwork.triggers.cron.expressions import StepRange, parse_term

    terms = split_terms("day_of_week", expression)
    if not any(ch.isdigit() for ch in expression):
        return expression
    weekdays: set[int] = set()
    for text in terms:
        if any(ch.isdigit() for ch in text):
            term = parse_term("day_of_week", text, 0, 7)
            assert isinstance(term, StepRange)
            weekdays.update((value - 1) % 7 for value in term.values(7))
        else:
            term = parse_term("day_of_week", text, 0, 6)
            assert isinstance(term, StepRange)
            weekdays.update(term.values(6))
    if len(weekdays) == 7:
        return "*"
    parts: list[str] = []
    ordered = sorted(weekdays)
    start = prev = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        parts.append(WEEKDAYS[start] if start == prev else f"{WEEKDAYS[start]}-{WEEKDAYS[prev]}")
        if value is not None:
            start = prev = value
    return ",".join(parts)
