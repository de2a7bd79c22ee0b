"""Where tickwork gets the time from, so tests can move it by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from tickwork.exceptions import ConfigurationError


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The host's wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for tests of time-dependent behaviour."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ConfigurationError("ManualClock needs an aware datetime", field="start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ConfigurationError("ManualClock needs an aware datetime", field="moment")
        self._now = moment.astimezone(UTC)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
