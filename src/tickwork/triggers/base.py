"""The contract every trigger keeps.

A trigger is a pure value: it knows nothing of jobs, stores or Flask, and it can be turned
into a JSON dict and back without loss, because the store keeps jobs as JSON rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar


class Trigger(ABC):
    """Computes when a job fires next.

    Subclasses are immutable and compare equal when their :meth:`to_dict` forms are equal.
    """

    #: The name used in ``add_job(trigger=...)`` and as ``"type"`` in :meth:`to_dict`.
    kind: ClassVar[str]

    @abstractmethod
    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        """Return the first fire time after ``previous``, or ``None`` when there is none.

        Mirrors APScheduler 3's ``get_next_fire_time``: with ``previous`` set, the result is
        the next fire time strictly after it; with ``previous=None`` (a job that never fired),
        it is the first fire time at or after ``now``. Both arguments must be aware; the
        result is aware, expressed in the trigger's time zone, and includes jitter if any.
        """

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with ``"type": kind`` and every field."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trigger):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.to_dict().items())))
