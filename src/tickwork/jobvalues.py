"""The kinds of value a job option holds: how each is checked and described.

A job option (``coalesce``, ``max_instances``, ...) declares its kind in the field metadata
of :class:`tickwork.job.Job`; validation and the OpenAPI document both read the kind, so a
bound is stated once (the numbers themselves come from :mod:`tickwork.limits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tickwork.exceptions import InvalidJobError
from tickwork.limits import UNREADABLE_CHARS, bad_text


class Value(Protocol):
    """A kind of value: checks one and describes it as JSON Schema."""

    def check(self, name: str, value: object) -> None:
        """Raise :class:`InvalidJobError` naming ``name`` unless ``value`` is of this kind."""

    def schema(self) -> dict[str, Any]:
        """The JSON Schema (OpenAPI 3.1) of a value of this kind."""


@dataclass(frozen=True, slots=True)
class Text:
    """Text both backends can store; ``required`` says what an empty one should be."""

    required: str | None = None

    def check(self, name: str, value: object) -> None:
        if not isinstance(value, str):
            raise InvalidJobError(f"{name} must be a string, got {value!r}", field=name)
        reason = bad_text(value)
        if reason is not None:
            raise InvalidJobError(f"{name} {reason}", field=name)
        if self.required is not None and not value:
            raise InvalidJobError(f"{name} must be {self.required}", field=name)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1} if self.required else {"type": "string"}


@dataclass(frozen=True, slots=True)
class Boolean:
    def check(self, name: str, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidJobError(f"{name} must be a boolean, got {value!r}", field=name)

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, slots=True)
class Integer:
    """An integer from ``low`` to ``high``, inclusive (never a bool)."""

    low: int
    high: int

    def check(self, name: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidJobError(f"{name} must be an integer, got {value!r}", field=name)
        if not self.low <= value <= self.high:
            raise InvalidJobError(
                f"{name} must be from {self.low} to {self.high}, got {value}", field=name
            )

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True, slots=True)
class Seconds:
    """A positive number of seconds up to ``high``, or ``None``."""

    high: float

    def check(self, name: str, value: object) -> None:
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= self.high
        ):
            raise InvalidJobError(
                f"{name} must be a positive number of seconds up to {self.high:.0f}, "
                f"or None, got {value!r}",
                field=name,
            )

    def schema(self) -> dict[str, Any]:
        return {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": self.high}


#: :data:`~tickwork.limits.UNREADABLE_CHARS` as a JSON Schema pattern.
_READABLE_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]*$"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text written for people (a pause note, who asked), or ``None``.

    Shown as is in the dashboard, the CLI and logs, so it may hold no control characters
    (a terminal escape, a newline forging a log line) nor bidirectional overrides (text
    that displays as something else); at most ``max_chars`` characters.
    """

    max_chars: int

    def check(self, name: str, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise InvalidJobError(f"{name} must be a string or None, got {value!r}", field=name)
        reason = bad_text(value)
        if reason is None and len(value) > self.max_chars:
            reason = f"must be at most {self.max_chars} characters, got {len(value)}"
        if reason is None and not UNREADABLE_CHARS.isdisjoint(value):
            reason = "must not contain control characters or bidirectional overrides"
        if reason is not None:
            raise InvalidJobError(f"{name} {reason}", field=name)

    def schema(self) -> dict[str, Any]:
        return {
            "type": ["string", "null"],
            "maxLength": self.max_chars,
            "pattern": _READABLE_PATTERN,
        }


@dataclass(frozen=True, slots=True)
class Moment:
    """An aware datetime, or ``None`` (ISO 8601 text in JSON)."""

    def check(self, name: str, value: object) -> None:
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise InvalidJobError(
                f"{name} must be an aware datetime or None, got {value!r}", field=name
            )

    def schema(self) -> dict[str, Any]:
        return {"type": ["string", "null"], "format": "date-time"}
