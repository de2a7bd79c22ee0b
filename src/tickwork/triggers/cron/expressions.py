"""Parsing of single cron terms (the pieces between commas) into value generators.

Parsing happens once, at construction; the trigger then works on precomputed value sets,
so nothing here is on the ``next_fire_time`` hot path except :meth:`DayTerm.day_in`,
which is called once per month and cached by the trigger.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from typing import Final

from tickwork.exceptions import TriggerArgumentError

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
POSITIONS: Final = ("1st", "2nd", "3rd", "4th", "5th", "last")

_ALL: Final = re.compile(r"\*(?:/(\d+))?")
_NUMERIC: Final = re.compile(r"(\d+)(?:-(\d+))?(?:/(\d+))?")
_NAMED: Final = re.compile(r"([a-z]+)(?:-([a-z]+))?", re.IGNORECASE)
_LAST: Final = re.compile(r"last", re.IGNORECASE)
_POSITION: Final = re.compile(r"(1st|2nd|3rd|4th|5th|last) +([a-z]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class StepRange:
    """``*``, ``*/n``, ``a``, ``a-b``, ``a/n``, ``a-b/n`` and name ranges: an arithmetic run.

    ``last=None`` means "up to the field's maximum" (APScheduler's ``a/n`` form).
    """

    first: int
    last: int | None
    step: int

    def values(self, high: int) -> range:
        """The run's values up to ``high`` inclusive."""
        last = high if self.last is None else min(self.last, high)
        return range(self.first, last + 1, self.step)


@dataclass(frozen=True, slots=True)
class DayTerm:
    """Month-dependent day-of-month terms: ``last`` and ``<xth> <weekday>``.

    ``position`` is 0-4 for 1st-5th and 5 for ``last``; ``weekday`` is ``None`` for the
    plain ``last`` (the month's last day).
    """

    position: int
    weekday: int | None

    def day_in(self, year: int, month: int) -> int | None:
        """The matching day of ``year-month``, or ``None`` (e.g. no 5th Friday)."""
        first_weekday, length = monthrange(year, month)
        if self.weekday is None:
            return length
        first_hit = (self.weekday - first_weekday) % 7 + 1
        if self.position == 5:
            return first_hit + (length - first_hit) // 7 * 7
        day = first_hit + self.position * 7
        return day if day <= length else None


Term = StepRange | DayTerm


def _fail(field: str, text: str, reason: str) -> TriggerArgumentError:
    return TriggerArgumentError(field, text, reason)


def _checked_step(field: str, text: str, step: str | None, span: int) -> int:
    if step is None:
        return 1
    value = int(step)
    if value == 0:
        raise _fail(field, text, "the step must be higher than 0")
    if value > span:
        raise _fail(field, text, f"the step ({value}) is higher than the range ({span})")
    return value


def _name_index(field: str, text: str, names: tuple[str, ...], name: str) -> int:
    try:
        return names.index(name.lower())
    except ValueError:
        raise _fail(field, text, f"unknown name {name!r}") from None


def parse_term(field: str, text: str, low: int, high: int) -> Term:
    """Parse one term of ``field`` whose values lie in ``low..high``.

    Validation mirrors APScheduler 3 (same accepted forms, same range and step checks),
    except that a term must match completely: APScheduler silently ignores trailing text
    such as the ``/2`` in ``mon-fri/2``; we reject it.
    """
    if match := _ALL.fullmatch(text):
        step = _checked_step(field, text, match[1], high - low)
        return StepRange(low, None, step)
    if match := _NUMERIC.fullmatch(text):
        first = int(match[1])
        last: int | None = int(match[2]) if match[2] is not None else None
        if last is None and match[3] is None:
            last = first
        if last is not None and first > last:
            raise _fail(field, text, "the first value is higher than the last")
        if first < low:
            raise _fail(field, text, f"the first value ({first}) is lower than {low}")
        if last is not None and last > high:
            raise _fail(field, text, f"the last value ({last}) is higher than {high}")
        if first > high:
            raise _fail(field, text, f"the value ({first}) is higher than {high}")
        # APScheduler measures the span to ``last or max``; "0-0/n" thus spans the field.
        span = (last or high) - first
        step = _checked_step(field, text, match[3], span)
        return StepRange(first, last, step)
    if field == "day":
        if _LAST.fullmatch(text):
            return DayTerm(5, None)
        if match := _POSITION.fullmatch(text):
            position = POSITIONS.index(match[1].lower())
            return DayTerm(position, _name_index(field, text, WEEKDAYS, match[2]))
    names = {"month": MONTHS, "day_of_week": WEEKDAYS}.get(field)
    if names is not None and (match := _NAMED.fullmatch(text)):
        offset = 1 if field == "month" else 0
        first = _name_index(field, text, names, match[1]) + offset
        last = first if match[2] is None else _name_index(field, text, names, match[2]) + offset
        if first > last:
            raise _fail(field, text, "the first value is higher than the last")
        return StepRange(first, last, 1)
    raise _fail(field, text, "unrecognised cron expression")
