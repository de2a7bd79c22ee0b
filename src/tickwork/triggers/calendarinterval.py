"""The ``calendarinterval`` trigger: every N years/months/weeks/days at a wall-clock time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from tickwork.exceptions import TriggerArgumentError
from tickwork.triggers._time import (
    UTC,
    apply_jitter,
    check_order,
    coerce_date,
    coerce_jitter,
    current_time,
    localize,
    require_aware,
    resolve_timezone,
)
from tickwork.triggers.base import Trigger

#: Upper bound on dates visited in one call; only reachable with absurd inputs.
_MAX_STEPS = 200_000


def _count(field: str, value: object, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TriggerArgumentError(field, value, "expected an integer")
    if value < 0 or (high is not None and value > high):
        bound = f"between 0 and {high}" if high is not None else ">= 0"
        raise TriggerArgumentError(field, value, f"must be {bound}")
    return value


class CalendarIntervalTrigger(Trigger):
    """Fires on calendar steps from ``start_date``, always at the same wall-clock time.

    Semantics follow APScheduler 4's trigger of the same name: the fire dates are
    ``start_date``, then repeatedly "add ``years``/``months`` keeping the day of month
    (skipping months where that day does not exist, e.g. Feb 30), then add
    ``weeks``/``days``". Each date is combined with ``hour:minute:second`` in the
    trigger's zone; a time inside a DST gap moves forward by the gap (02:30 -> 03:30), an
    ambiguous time uses its first occurrence. Unlike APScheduler 3.11's copy, a gap never
    drops the day: a daily 02:30 job still runs once on spring-forward day.

    Fire dates form a fixed sequence from ``start_date``; ``previous`` only selects the
    first element after it, so jitter cannot shift later dates.
    """

    kind: ClassVar[str] = "calendarinterval"
    FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"years", "months", "weeks", "days", "hour", "minute", "second"}
        | {"start_date", "end_date", "timezone", "jitter"}
    )

    __slots__ = (
        "_days",
        "_end",
        "_jitter",
        "_months",
        "_start",
        "_time",
        "_timezone",
    )

    def __init__(
        self,
        *,
        years: int = 0,
        months: int = 0,
        weeks: int = 0,
        days: int = 0,
        hour: int = 0,
        minute: int = 0,
        second: int = 0,
        start_date: object = None,
        end_date: object = None,
        timezone: object = None,
        now: datetime | None = None,
        jitter: float | None = None,
    ) -> None:
        self._months = _count("years", years) * 12 + _count("months", months)
        self._days = _count("weeks", weeks) * 7 + _count("days", days)
        if self._months == 0 and self._days == 0:
            raise TriggerArgumentError("days", days, "the interval must be at least 1 day long")
        self._time = time(_count("hour", hour, 23), _count("minute", minute, 59))
        self._time = self._time.replace(second=_count("second", second, 59))
        self._timezone = resolve_timezone(timezone, start_date, end_date)
        self._start = (
            current_time(now).astimezone(self._timezone).date()
            if start_date is None
            else coerce_date(start_date, self._timezone, "start_date")
        )
        self._end = None if end_date is None else coerce_date(end_date, self._timezone, "end_date")
        check_order(self._start, self._end)
        self._jitter = coerce_jitter(jitter)

    @property
    def timezone(self) -> ZoneInfo:
        """The zone the wall-clock time is read in."""
        return self._timezone

    @property
    def start_date(self) -> date:
        """The first fire date."""
        return self._start

    @property
    def end_date(self) -> date | None:
        """The last date a fire may fall on (inclusive)."""
        return self._end

    # -- the date sequence ------------------------------------------------------------

    def _step(self, day: date) -> date:
        """One calendar step: add months keeping the day (skip invalid), then days."""
        if self._months:
            index = day.year * 12 + day.month - 1
            while True:
                index += self._months
                year, month0 = divmod(index, 12)
                try:
                    day = day.replace(year=year, month=month0 + 1)
                except ValueError:
                    if year > 9999:
                        raise OverflowError("past year 9999") from None
                    continue  # e.g. Feb 30: this month has no such day
                break
        return day + timedelta(days=self._days)

    def _fast_forward(self, target: date) -> date:
        """Return a sequence date not after ``target`` (start_date if none is cheap to find).

        Closed forms exist for pure day steps and for pure month steps (the day of month
        then never changes); mixed steps walk from ``start_date``.
        """
        start = self._start
        if target <= start:
            return start
        if not self._months:
            steps = (target - start).days // self._days
            return start + timedelta(days=steps * self._days)
        if not self._days:
            base = start.year * 12 + start.month - 1
            months = (target.year - start.year) * 12 + target.month - start.month
            steps = max(0, months // self._months - 1)
            while steps > 0:  # walk back to a month that has this day of month
                year, month0 = divmod(base + steps * self._months, 12)
                try:
                    return start.replace(year=year, month=month0 + 1)
                except ValueError:
                    steps -= 1
            return start
        return start

    def _fire_time(self, day: date) -> datetime:
        return localize(datetime.combine(day, self._time), self._timezone)

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        if previous is not None:
            bound = previous.astimezone(UTC)
            strict = True
        else:
            bound = now.astimezone(UTC)
            strict = False
        # Start one day early: the bound's local date may be the day after the fire date.
        day = self._fast_forward(bound.astimezone(self._timezone).date() - timedelta(days=1))
        try:
            for _ in range(_MAX_STEPS):
                if self._end is not None and day > self._end:
                    return None
                fire = self._fire_time(day)
                fire_utc = fire.astimezone(UTC)
                if fire_utc > bound or (not strict and fire_utc == bound):
                    return apply_jitter(fire, self._jitter)
                day = self._step(day)
        except OverflowError:
            return None
        return None

    def to_dict(self) -> dict[str, Any]:
        years, months = divmod(self._months, 12)
        weeks, days = divmod(self._days, 7)
        return {
            "type": self.kind,
            "years": years,
            "months": months,
            "weeks": weeks,
            "days": days,
            "hour": self._time.hour,
            "minute": self._time.minute,
            "second": self._time.second,
            "start_date": self._start.isoformat(),
            "end_date": None if self._end is None else self._end.isoformat(),
            "timezone": self._timezone.key,
            "jitter": self._jitter,
        }

    def _interval_text(self) -> str:
        data = self.to_dict()
        parts = [f"{name}={data[name]}" for name in ("years", "months", "weeks", "days")]
        return ", ".join(part for part in parts if not part.endswith("=0"))

    def __str__(self) -> str:
        return f"calendarinterval[{self._interval_text()}, time={self._time.isoformat()}]"

    def __repr__(self) -> str:
        fields = [self._interval_text(), f"time='{self._time.isoformat()}'"]
        fields.append(f"start_date='{self._start}'")
        if self._end is not None:
            fields.append(f"end_date='{self._end}'")
        fields.append(f"timezone='{self._timezone.key}'")
        return f"<CalendarIntervalTrigger ({', '.join(fields)})>"
