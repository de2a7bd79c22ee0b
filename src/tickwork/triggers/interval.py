"""The ``interval`` trigger: a fixed grid of absolute instants."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from tickwork.exceptions import TriggerArgumentError
from tickwork.limits import MAX_DURATION
from tickwork.triggers._time import (
    UTC,
    apply_jitter,
    check_order,
    coerce_datetime,
    coerce_jitter,
    current_time,
    datetime_repr,
    iso,
    require_aware,
    resolve_timezone,
)
from tickwork.triggers.base import Trigger

_MAX_MICROS = MAX_DURATION // timedelta(microseconds=1)

_UNITS: tuple[tuple[str, int], ...] = (
    ("weeks", 7 * 86_400_000_000),
    ("days", 86_400_000_000),
    ("hours", 3_600_000_000),
    ("minutes", 60_000_000),
    ("seconds", 1_000_000),
)


def _amount(field: str, value: object, unit: int) -> int | float:
    """A count of ``field`` units, refused past :data:`MAX_DURATION` so nothing overflows."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TriggerArgumentError(field, value, "expected a number")
    if not 0 <= value <= _MAX_MICROS // unit:
        raise TriggerArgumentError(
            field, value, f"must be a number from 0 to {_MAX_MICROS // unit}"
        )
    return value


def split_microseconds(total: int) -> dict[str, int | float]:
    """Normalise a length into weeks/days/hours/minutes/seconds (90 min -> 1 h 30 min).

    Sub-second remainders stay on ``seconds`` as a float so nothing is lost.
    """
    parts: dict[str, int | float] = {}
    for name, size in _UNITS:
        count, total = divmod(total, size)
        parts[name] = count
    if total:
        parts["seconds"] = parts["seconds"] + total / 1_000_000
    return parts


class IntervalTrigger(Trigger):
    """Fires at ``start_date + k * interval`` for k = 0, 1, 2, ...

    The interval is added in absolute (UTC) time, as APScheduler 3.11 does, so a 1-hour
    interval stays 60 real minutes apart across DST changes while its wall-clock hour
    shifts. Fire times always sit on that grid: the next one is derived from
    ``start_date``, never from ``previous``, so jitter and late runs cannot make the
    schedule drift.

    :param start_date: first grid point. ``None`` means "creation time + interval" (what
        APScheduler 3 does), resolved once and stored, so the grid survives a round trip.
    :param end_date: last instant a grid point may have (inclusive).
    :param now: the scheduler's current time, from which a missing ``start_date`` is
        counted.
    :param jitter: add ``uniform(0, jitter)`` seconds to each returned time, never to the
        grid.
    """

    kind: ClassVar[str] = "interval"
    FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"weeks", "days", "hours", "minutes", "seconds", "start_date", "end_date"}
        | {"timezone", "jitter"}
    )

    __slots__ = ("_end", "_end_utc", "_jitter", "_length", "_start", "_start_utc", "_timezone")

    def __init__(
        self,
        *,
        weeks: float = 0,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        start_date: object = None,
        end_date: object = None,
        timezone: object = None,
        jitter: float | None = None,
        now: datetime | None = None,
    ) -> None:
        length = timedelta(
            **{
                name: _amount(name, given, size)
                for (name, size), given in zip(
                    _UNITS, (weeks, days, hours, minutes, seconds), strict=True
                )
            }
        )
        micros = length // timedelta(microseconds=1)
        if micros <= 0:
            raise TriggerArgumentError("seconds", seconds, "the interval must be longer than 0")
        if length > MAX_DURATION:
            raise TriggerArgumentError(
                "seconds", seconds, f"the interval must not exceed {MAX_DURATION.days} days"
            )
        self._length = micros
        self._timezone = resolve_timezone(timezone, start_date, end_date)
        if start_date is None:
            self._start = (current_time(now) + length).astimezone(self._timezone)
        else:
            self._start = coerce_datetime(start_date, self._timezone, "start_date")
        self._end = (
            None if end_date is None else coerce_datetime(end_date, self._timezone, "end_date")
        )
        check_order(self._start, self._end)
        self._start_utc = self._start.astimezone(UTC)
        self._end_utc = None if self._end is None else self._end.astimezone(UTC)
        self._jitter = coerce_jitter(jitter)

    @property
    def interval(self) -> timedelta:
        """The grid spacing."""
        return timedelta(microseconds=self._length)

    @property
    def start_date(self) -> datetime:
        """The grid's origin (resolved, never ``None``)."""
        return self._start

    @property
    def end_date(self) -> datetime | None:
        """The last instant a fire time may have."""
        return self._end

    @property
    def timezone(self) -> ZoneInfo:
        """The zone of returned datetimes."""
        return self._timezone

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        start = self._start_utc
        if previous is not None:
            # First grid point strictly after ``previous``.
            elapsed = (previous.astimezone(UTC) - start) // timedelta(microseconds=1)
            steps = max(0, elapsed // self._length + 1)
        else:
            # First grid point at or after ``now``.
            elapsed = (now.astimezone(UTC) - start) // timedelta(microseconds=1)
            steps = max(0, -(-elapsed // self._length))
        try:
            grid = start + timedelta(microseconds=steps * self._length)
        except OverflowError:
            return None
        if self._end_utc is not None and grid > self._end_utc:
            return None
        result = apply_jitter(grid.astimezone(self._timezone), self._jitter)
        if self._end_utc is not None and self._jitter and result.astimezone(UTC) > self._end_utc:
            result = self._end_utc.astimezone(self._timezone)
        return result

    def continued_from(self, moment: datetime) -> IntervalTrigger:
        """This trigger with its grid through ``moment``, where the job fires next.

        A job given an explicit next run time off the grid ("run now, then every 10 s")
        fires at ``moment`` and then every interval after it, as in APScheduler, instead of
        at the old grid's next point, which may be any shorter time later. The grid moves
        (its ``start_date`` becomes ``moment``) rather than fire times being counted from
        the previous fire, so jitter still never drifts the schedule. On the grid already
        (up to ``jitter`` after a grid point), or past ``end_date``, the trigger is
        returned unchanged.
        """
        elapsed = (moment.astimezone(UTC) - self._start_utc) // timedelta(microseconds=1)
        # Within jitter after a grid point is on the grid: a jittered fire time (a stored
        # next run time, say, imported or copied) must not move the grid by its jitter.
        if elapsed % self._length <= (self._jitter or 0) * 1_000_000 or (
            self._end_utc is not None and moment > self._end_utc
        ):
            return self
        moved = copy.copy(self)
        moved._start = moment.astimezone(self._timezone)
        moved._start_utc = moment.astimezone(UTC)
        return moved

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.kind}
        data.update(split_microseconds(self._length))
        data["start_date"] = iso(self._start)
        data["end_date"] = iso(self._end)
        data["timezone"] = self._timezone.key
        data["jitter"] = self._jitter
        return data

    def __str__(self) -> str:
        return f"interval[{self.interval!s}]"

    def __repr__(self) -> str:
        options = [f"interval={self.interval!r}", f"start_date='{datetime_repr(self._start)}'"]
        if self._end is not None:
            options.append(f"end_date='{datetime_repr(self._end)}'")
        if self._jitter:
            options.append(f"jitter={self._jitter}")
        return f"<IntervalTrigger ({', '.join(options)}, timezone='{self._timezone.key}')>"
