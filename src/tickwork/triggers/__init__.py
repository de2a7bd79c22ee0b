"""Triggers: pure, typed, JSON-serialisable schedules.

``build_trigger`` is what ``add_job(trigger="cron", hour=9)`` calls; ``trigger_from_dict``
restores what :meth:`Trigger.to_dict` produced (the store keeps triggers as JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tickwork.exceptions import TriggerArgumentError
from tickwork.triggers._time import coerce_timezone, local_timezone
from tickwork.triggers.base import Trigger
from tickwork.triggers.calendarinterval import CalendarIntervalTrigger
from tickwork.triggers.combining import AndTrigger, OrTrigger, check_combination
from tickwork.triggers.cron import CronTrigger
from tickwork.triggers.date import DateTrigger
from tickwork.triggers.interval import IntervalTrigger

__all__ = [
    "AndTrigger",
    "CalendarIntervalTrigger",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "OrTrigger",
    "Trigger",
    "build_trigger",
    "trigger_arguments",
    "trigger_from_dict",
]

#: Triggers whose defaults (a missing start or run date) count from the time they are built.
_STARTING_NOW: dict[str, type[DateTrigger | IntervalTrigger | CalendarIntervalTrigger]] = {
    "date": DateTrigger,
    "interval": IntervalTrigger,
    "calendarinterval": CalendarIntervalTrigger,
}
_SIMPLE: dict[str, type[DateTrigger | IntervalTrigger | CronTrigger | CalendarIntervalTrigger]] = {
    **_STARTING_NOW,
    "cron": CronTrigger,
}
_COMBINING: dict[str, type[AndTrigger | OrTrigger]] = {"and": AndTrigger, "or": OrTrigger}
KINDS = frozenset(_SIMPLE) | frozenset(_COMBINING)


def trigger_arguments(kind: object) -> frozenset[str]:
    """The argument names ``build_trigger(kind, ...)`` accepts, ``timezone`` included.

    :raises TriggerArgumentError: for anything but a trigger name.
    """
    cls = (_SIMPLE.get(kind) or _COMBINING.get(kind)) if isinstance(kind, str) else None
    if cls is None:
        raise TriggerArgumentError(
            "trigger", kind, f"unknown trigger type; use one of {sorted(KINDS)}"
        )
    return cls.FIELDS


def _check_fields(kind: str, allowed: frozenset[str], kwargs: Mapping[str, Any]) -> None:
    for name in kwargs:
        if name not in allowed:
            raise TriggerArgumentError(name, kwargs[name], f"unknown argument for {kind} trigger")


def _child(value: object, timezone: object, depth: int, now: datetime | None) -> Trigger:
    if isinstance(value, Trigger):
        return value
    if isinstance(value, Mapping):
        data = dict(value)
        kind = data.pop("type", None)
        if not isinstance(kind, str):
            raise TriggerArgumentError("type", kind, "each child trigger needs a type")
        own_zone = data.pop("timezone", None)
        zone = timezone if own_zone is None else own_zone
        return _build(kind, zone, data, depth, now)
    raise TriggerArgumentError("triggers", value, "expected a Trigger or a trigger dict")


def build_trigger(
    kind: str | Trigger, *, timezone: object = None, now: datetime | None = None, **kwargs: Any
) -> Trigger:
    """Build a trigger from ``add_job``-style arguments.

    :param kind: ``"date"``, ``"interval"``, ``"cron"``, ``"calendarinterval"``, ``"and"``,
        ``"or"``, or a ready :class:`Trigger` (returned unchanged; no other argument
        allowed then).
    :param timezone: zone used when ``kwargs`` do not name one (typically the
        scheduler's); the local zone when this is ``None`` too.
    :param now: the scheduler's clock reading, from which defaults such as a missing
        ``start_date`` are counted (the host's clock when ``None``).
    :raises TriggerArgumentError: for an unknown kind or argument, naming it.
    """
    if isinstance(kind, Trigger):
        if kwargs:
            name = next(iter(kwargs))
            raise TriggerArgumentError(name, kwargs[name], "not allowed with a Trigger instance")
        return kind
    return _build(kind, timezone, kwargs, 0, now)


def _build(
    kind: object, timezone: object, kwargs: dict[str, Any], depth: int, now: datetime | None
) -> Trigger:
    if not isinstance(kind, str):
        raise TriggerArgumentError("trigger", kind, "expected a trigger name or Trigger")
    default_zone = local_timezone() if timezone is None else coerce_timezone(timezone)
    if kind in _COMBINING:
        cls = _COMBINING[kind]
        _check_fields(kind, cls.FIELDS, kwargs)
        if "triggers" not in kwargs:
            raise TriggerArgumentError("triggers", None, f"required for {kind} trigger")
        children = kwargs["triggers"]
        if isinstance(children, str | bytes | Mapping) or not isinstance(children, list | tuple):
            raise TriggerArgumentError("triggers", children, "expected a list of triggers")
        # Children are built first, so refuse a too deep or too wide spec before recursing.
        check_combination(len(children) + 1, depth + 1)
        return cls(
            [_child(child, default_zone, depth + 1, now) for child in children],
            jitter=kwargs.get("jitter"),
        )
    if kind not in _SIMPLE:
        raise TriggerArgumentError(
            "trigger", kind, f"unknown trigger type; use one of {sorted(KINDS)}"
        )
    simple = _SIMPLE[kind]
    _check_fields(kind, simple.FIELDS, kwargs)
    if kwargs.get("timezone") is None:
        kwargs["timezone"] = default_zone
    if kind in _STARTING_NOW:
        return _STARTING_NOW[kind](**kwargs, now=now)
    return simple(**kwargs)


def trigger_from_dict(data: Mapping[str, Any]) -> Trigger:
    """Rebuild a trigger from :meth:`Trigger.to_dict` output, validating every field."""
    return _from_dict(data, 0)


def _from_dict(data: Mapping[str, Any], depth: int) -> Trigger:
    if not isinstance(data, Mapping):
        raise TriggerArgumentError("trigger", data, "expected a dict")
    fields = dict(data)
    kind = fields.pop("type", None)
    if not isinstance(kind, str) or kind not in KINDS:
        raise TriggerArgumentError(
            "type", kind, f"unknown trigger type; use one of {sorted(KINDS)}"
        )
    if kind in _COMBINING:
        cls = _COMBINING[kind]
        _check_fields(kind, cls.FIELDS, fields)
        children = fields.get("triggers")
        if not isinstance(children, list | tuple):
            raise TriggerArgumentError("triggers", children, "expected a list of trigger dicts")
        check_combination(len(children) + 1, depth + 1)
        return cls(
            [_from_dict(child, depth + 1) for child in children], jitter=fields.get("jitter")
        )
    simple = _SIMPLE[kind]
    _check_fields(kind, simple.FIELDS, fields)
    return simple(**fields)
