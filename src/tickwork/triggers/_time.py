"""Time-zone and datetime coercion shared by every trigger.

Triggers accept the loose inputs APScheduler users are used to (zone names, naive
datetimes, ISO strings, dates) but keep one strict internal form: a :class:`ZoneInfo` with
a key (so it serialises as a name) and aware datetimes. Everything here raises
:class:`~tickwork.exceptions.TriggerArgumentError` naming the argument, never a bare
``ValueError`` from the standard library.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tickwork.exceptions import TriggerArgumentError
from tickwork.limits import check_instant, check_seconds

__all__ = [
    "UTC",
    "apply_jitter",
    "check_order",
    "coerce_date",
    "coerce_datetime",
    "coerce_jitter",
    "coerce_timezone",
    "datetime_repr",
    "iso",
    "local_timezone",
    "localize",
    "require_aware",
    "resolve_timezone",
]


#: Zone objects are cached by ``ZoneInfo`` itself; this only avoids repeated key checks.
_UTC_ZONE: Final = ZoneInfo("UTC")
_D = TypeVar("_D", bound=date)


def coerce_timezone(value: object, field: str = "timezone") -> ZoneInfo:
    """Return ``value`` as a named :class:`ZoneInfo`.

    Only things that round-trip through a name are accepted: a ``ZoneInfo`` built from a
    key, an IANA name, or ``datetime.timezone.utc`` (mapped to ``ZoneInfo("UTC")`` so that
    every trigger has one kind of zone). pytz zones, fixed offsets and zones loaded from
    files are rejected because they cannot be stored as JSON and restored identically.
    """
    if isinstance(value, ZoneInfo):
        if value.key is None:
            raise TriggerArgumentError(field, value, "a ZoneInfo without a key cannot be stored")
        return value
    if value is UTC:
        return _UTC_ZONE
    if isinstance(value, str):
        if not value or value != value.strip():
            raise TriggerArgumentError(field, value, "not a time zone name")
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise TriggerArgumentError(field, value, "unknown time zone name") from None
    if isinstance(value, tzinfo):
        raise TriggerArgumentError(
            field,
            value,
            "only zoneinfo.ZoneInfo, an IANA zone name or datetime.timezone.utc are accepted",
        )
    raise TriggerArgumentError(field, value, "expected a time zone name or ZoneInfo")


def local_timezone() -> ZoneInfo:
    """Return the machine's zone as a named ZoneInfo (UTC when tzlocal cannot name it)."""
    import tzlocal

    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # tzlocal raises assorted errors on odd systems
        name = None
    if not name:
        return _UTC_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return _UTC_ZONE


def resolve_timezone(timezone_: object, *hints: object) -> ZoneInfo:
    """Pick a trigger's zone: the explicit one, else a ZoneInfo carried by an aware hint.

    Like APScheduler 3, an aware ``start_date``/``end_date`` lends its zone when no
    ``timezone`` is given; failing that the local zone is used.
    """
    if timezone_ is not None:
        return coerce_timezone(timezone_)
    for hint in hints:
        if isinstance(hint, datetime) and isinstance(hint.tzinfo, ZoneInfo) and hint.tzinfo.key:
            return hint.tzinfo
    return local_timezone()


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a naive wall-clock time and normalise it.

    A time in a DST gap moves forward by the gap's length (02:30 becomes 03:30 on a
    one-hour spring-forward); an ambiguous time takes its first occurrence. This is what
    APScheduler 3 does for naive inputs, and what ``fold=0`` means under PEP 495. An
    explicit ``fold=1`` on an ambiguous time selects the second occurrence, as in
    APScheduler.
    """
    aware = naive.replace(tzinfo=tz)
    if naive.fold:
        first = aware.replace(fold=0).utcoffset()
        second = aware.utcoffset()
        if first is not None and second is not None and second > first:  # a gap: go forward
            aware = aware.replace(fold=0)
    return aware.astimezone(UTC).astimezone(tz)


def coerce_datetime(value: object, tz: ZoneInfo, field: str) -> datetime:
    """Return ``value`` as an aware datetime expressed in ``tz``.

    Accepts aware or naive datetimes, dates (midnight) and ISO 8601 strings with or without
    an offset. Naive values are wall-clock times in ``tz``.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise TriggerArgumentError(field, value, "not an ISO 8601 date/time") from None
    else:
        raise TriggerArgumentError(field, value, "expected a datetime, date or ISO 8601 string")
    try:
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            aware = localize(parsed.replace(tzinfo=None), tz)
        else:
            aware = parsed.astimezone(tz)
    except (OverflowError, ValueError):  # a zone offset pushed it past year 1 or 9999
        aware = None
    return check_instant(field, aware, value)


def coerce_date(value: object, tz: ZoneInfo, field: str) -> date:
    """Return ``value`` as a calendar date; aware datetimes are first moved into ``tz``."""
    if isinstance(value, datetime):
        return coerce_datetime(value, tz, field).date()
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            return coerce_datetime(value, tz, field).date()
    else:
        raise TriggerArgumentError(field, value, "expected a date, datetime or ISO 8601 string")
    check_instant(field, datetime.combine(day, time(), UTC), value)
    return day


def require_aware(value: datetime | None, field: str) -> None:
    """Reject naive datetimes passed to ``next_fire_time``: their instant is unknowable."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise TriggerArgumentError(field, value, "must be an aware datetime")


def coerce_jitter(value: object) -> float | int | None:
    """Validate ``jitter``: ``None`` or a non-negative number of seconds."""
    if value is None:
        return None
    return check_seconds("jitter", value)  # type: ignore[arg-type]


def apply_jitter(when: datetime, jitter: float | None) -> datetime:
    """Add ``uniform(0, jitter)`` seconds, in absolute time, to a fire time."""
    if not jitter:
        return when
    tz = when.tzinfo
    try:
        shifted = when.astimezone(UTC) + timedelta(seconds=random.uniform(0, jitter))
    except OverflowError:  # a fire time near year 9999: the grid time itself will do
        return when
    return shifted.astimezone(tz)


def check_order(start: _D | None, end: _D | None) -> None:
    """Raise when ``end_date`` lies before ``start_date``."""
    if start is not None and end is not None and end < start:
        raise TriggerArgumentError("end_date", end, "must not be earlier than start_date")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset, the JSON form of every datetime a trigger stores."""
    return None if value is None else value.isoformat()


def datetime_repr(value: datetime) -> str:
    """Human form used by ``__str__``/``__repr__``, like APScheduler's."""
    return value.strftime("%Y-%m-%d %H:%M:%S %Z")


def current_time(now: datetime | None) -> datetime:
    """``now``, the scheduler's clock reading a trigger was built at; the host's clock
    only for a trigger built outside any scheduler."""
    if now is None:
        return datetime.now(UTC)
    require_aware(now, "now")
    return now
