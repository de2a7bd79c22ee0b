"""Cron fields: names, bounds, APScheduler 3 defaults, and compilation to value sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tickwork.exceptions import TriggerArgumentError
from tickwork.triggers.cron.expressions import DayTerm, StepRange, Term, parse_term

#: Most significant first, as in APScheduler 3 (this order drives the defaults).
FIELD_NAMES: Final = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
MIN_VALUES: Final = {
    "year": 1970,
    "month": 1,
    "day": 1,
    "week": 1,
    "day_of_week": 0,
    "hour": 0,
    "minute": 0,
    "second": 0,
}
MAX_VALUES: Final = {
    "year": 9999,
    "month": 12,
    "day": 31,
    "week": 53,
    "day_of_week": 6,
    "hour": 23,
    "minute": 59,
    "second": 59,
}
#: Values for fields less significant than the least significant one given.
DEFAULT_VALUES: Final = {
    "year": "*",
    "month": "1",
    "day": "1",
    "week": "*",
    "day_of_week": "*",
    "hour": "0",
    "minute": "0",
    "second": "0",
}


@dataclass(frozen=True, slots=True)
class CompiledField:
    """One field's expression, parsed.

    ``values`` holds the month-independent values, sorted (a ``range`` when the field is a
    single run, which keeps ``year='*'`` tiny). ``day_terms`` holds ``last``/``xth
    weekday`` terms, which only the day field has. ``is_full`` is true when every value
    is allowed, letting the trigger skip the check entirely.
    """

    name: str
    expression: str
    values: Sequence[int]
    day_terms: tuple[DayTerm, ...]
    is_full: bool


def split_terms(field: str, expression: str) -> list[str]:
    """Split a comma list; blank terms are an error."""
    terms = [term.strip() for term in expression.split(",")]
    if not all(terms):
        raise TriggerArgumentError(field, expression, "empty cron expression")
    return terms


def compile_field(name: str, expression: str) -> CompiledField:
    """Parse ``expression`` for field ``name`` into its value set."""
    low, high = MIN_VALUES[name], MAX_VALUES[name]
    terms: list[Term] = [
        parse_term(name, text, low, high) for text in split_terms(name, expression)
    ]
    runs = [term.values(high) for term in terms if isinstance(term, StepRange)]
    day_terms = tuple(term for term in terms if isinstance(term, DayTerm))
    values: Sequence[int] = (
        runs[0] if len(runs) == 1 else tuple(sorted({value for run in runs for value in run}))
    )
    is_full = not day_terms and len(values) == high - low + 1
    return CompiledField(name, expression, values, day_terms, is_full)
