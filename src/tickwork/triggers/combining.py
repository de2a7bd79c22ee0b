"""``and`` / ``or``: triggers built from other triggers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from tickwork.exceptions import TriggerArgumentError
from tickwork.triggers._time import UTC, apply_jitter, coerce_jitter, require_aware
from tickwork.triggers.base import Trigger

logger = logging.getLogger(__name__)

#: How many rounds :class:`AndTrigger` tries before concluding its children never agree.
MAX_AND_ROUNDS = 10_000


class _CombiningTrigger(Trigger):
    """Shared storage, validation and serialisation of ``and``/``or``."""

    FIELDS: ClassVar[frozenset[str]] = frozenset({"triggers", "jitter"})

    __slots__ = ("_jitter", "_triggers")

    def __init__(self, triggers: Iterable[Trigger], jitter: float | None = None) -> None:
        if isinstance(triggers, str | bytes | dict) or not isinstance(triggers, Iterable):
            raise TriggerArgumentError("triggers", triggers, "expected a list of triggers")
        items = tuple(triggers)
        if not items:
            raise TriggerArgumentError("triggers", triggers, "at least one trigger is needed")
        for item in items:
            if not isinstance(item, Trigger):
                raise TriggerArgumentError("triggers", item, "expected a Trigger instance")
        self._triggers = items
        self._jitter = coerce_jitter(jitter)

    @property
    def triggers(self) -> tuple[Trigger, ...]:
        """The combined triggers, in the order given."""
        return self._triggers

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "triggers": [trigger.to_dict() for trigger in self._triggers],
            "jitter": self._jitter,
        }

    def __str__(self) -> str:
        return f"{self.kind}[{', '.join(str(trigger) for trigger in self._triggers)}]"

    def __repr__(self) -> str:
        jitter = f", jitter={self._jitter}" if self._jitter else ""
        return f"<{type(self).__name__}({list(self._triggers)!r}{jitter})>"


class AndTrigger(_CombiningTrigger):
    """Fires at the earliest instant every child trigger fires at.

    Each round asks the children lagging behind for their first fire time at or after the
    latest candidate, until all agree. Children that can never agree (e.g. two interval
    grids that never meet) would loop forever, so the search gives up after
    :data:`MAX_AND_ROUNDS` rounds, logs a warning and returns ``None`` (the schedule
    ends). Best used with cron/calendarinterval children; child jitter defeats agreement.
    """

    kind: ClassVar[str] = "and"
    __slots__ = ()

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        times = [trigger.next_fire_time(previous, now) for trigger in self._triggers]
        for _ in range(MAX_AND_ROUNDS):
            if any(time is None for time in times):
                return None
            instants = [time.astimezone(UTC) for time in times if time is not None]
            latest = max(instants)
            if min(instants) == latest:
                return apply_jitter(times[0], self._jitter) if times[0] is not None else None
            lagging = times
            times = []
            for trigger, time, instant in zip(self._triggers, lagging, instants, strict=True):
                if instant == latest:
                    times.append(time)
                    continue
                candidate = trigger.next_fire_time(None, latest)
                # A child answering with an earlier time (a past one-shot date) is done.
                if candidate is not None and candidate.astimezone(UTC) < latest:
                    candidate = None
                times.append(candidate)
        logger.warning("%s: no common fire time within %d rounds", self, MAX_AND_ROUNDS)
        return None


class OrTrigger(_CombiningTrigger):
    """Fires whenever any child fires; finished when all children are.

    Every child gets the same ``previous`` (the last time *any* child fired), as in
    APScheduler 3. Our interval children keep to their own grid, so unlike APScheduler's
    they do not restart their count from another child's fire time.
    """

    kind: ClassVar[str] = "or"
    __slots__ = ()

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        best: datetime | None = None
        best_instant: datetime | None = None
        for trigger in self._triggers:
            time = trigger.next_fire_time(previous, now)
            if time is None:
                continue
            instant = time.astimezone(UTC)
            if best_instant is None or instant < best_instant:
                best, best_instant = time, instant
        return None if best is None else apply_jitter(best, self._jitter)
