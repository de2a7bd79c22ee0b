"""The one-shot ``date`` trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from tickwork.triggers._time import (
    coerce_datetime,
    current_time,
    datetime_repr,
    iso,
    require_aware,
    resolve_timezone,
)
from tickwork.triggers.base import Trigger


class DateTrigger(Trigger):
    """Fires once, at ``run_date``.

    Like APScheduler 3, the run date is returned even when it already lies in the past (the
    engine decides about misfires), and ``run_date=None`` means "now", resolved once at
    construction and stored so that the trigger survives a round trip unchanged.

    :param run_date: when to fire; naive values and strings are wall-clock times in
        ``timezone``.
    :param timezone: zone for naive input and for the returned datetime.
    :param now: the scheduler's current time, used when ``run_date`` is ``None``.
    """

    kind: ClassVar[str] = "date"
    FIELDS: ClassVar[frozenset[str]] = frozenset({"run_date", "timezone"})

    __slots__ = ("_run_date", "_timezone")

    def __init__(
        self, run_date: object = None, timezone: object = None, *, now: datetime | None = None
    ) -> None:
        self._timezone = resolve_timezone(timezone, run_date)
        if run_date is None:
            self._run_date = current_time(now).astimezone(self._timezone)
        else:
            self._run_date = coerce_datetime(run_date, self._timezone, "run_date")

    @property
    def run_date(self) -> datetime:
        """The single fire time, aware, in the trigger's zone."""
        return self._run_date

    @property
    def timezone(self) -> ZoneInfo:
        """The trigger's :class:`~zoneinfo.ZoneInfo`."""
        return self._timezone

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        return self._run_date if previous is None else None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "run_date": iso(self._run_date), "timezone": self._timezone.key}

    def __str__(self) -> str:
        return f"date[{datetime_repr(self._run_date)}]"

    def __repr__(self) -> str:
        return f"<DateTrigger (run_date='{datetime_repr(self._run_date)}')>"
