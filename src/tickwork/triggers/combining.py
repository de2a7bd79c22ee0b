"""``and`` / ``or``: triggers built from other triggers."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from tickwork.exceptions import TriggerArgumentError
from tickwork.limits import MAX_TRIGGER_DEPTH, MAX_TRIGGER_EVALUATIONS, MAX_TRIGGER_NODES
from tickwork.triggers._time import UTC, apply_jitter, coerce_jitter, require_aware
from tickwork.triggers.base import Trigger

logger = logging.getLogger(__name__)


class _Budget:
    """Child fire-time computations left to one top-level search, shared by nested ones."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_TRIGGER_EVALUATIONS

    def spend(self, count: int) -> bool:
        """Take ``count`` computations; False when the budget does not cover them."""
        self.left -= count
        return self.left >= 0


def check_combination(nodes: int, depth: int) -> None:
    """Refuse a combination of more than :data:`~tickwork.limits.MAX_TRIGGER_NODES`
    triggers in all, or nested deeper than :data:`~tickwork.limits.MAX_TRIGGER_DEPTH`."""
    if nodes > MAX_TRIGGER_NODES:
        raise TriggerArgumentError(
            "triggers",
            f"{nodes} triggers",
            f"a combined trigger may hold at most {MAX_TRIGGER_NODES} triggers in all",
        )
    if depth > MAX_TRIGGER_DEPTH:
        raise TriggerArgumentError(
            "triggers",
            f"{depth} levels",
            f"combined triggers may be nested at most {MAX_TRIGGER_DEPTH} levels deep",
        )


def _size(trigger: Trigger) -> tuple[int, int]:
    """(number of triggers, nesting depth of combinations) of ``trigger``."""
    if isinstance(trigger, _CombiningTrigger):
        return trigger._nodes, trigger._depth
    return 1, 0


class _CombiningTrigger(Trigger):
    """Shared storage, validation and serialisation of ``and``/``or``."""

    FIELDS: ClassVar[frozenset[str]] = frozenset({"triggers", "jitter"})

    __slots__ = ("_depth", "_jitter", "_nodes", "_triggers")

    def __init__(self, triggers: Iterable[Trigger], jitter: float | None = None) -> None:
        if isinstance(triggers, str | bytes | dict) or not isinstance(triggers, Iterable):
            raise TriggerArgumentError("triggers", triggers, "expected a list of triggers")
        items = tuple(triggers)
        if not items:
            raise TriggerArgumentError("triggers", triggers, "at least one trigger is needed")
        for item in items:
            if not isinstance(item, Trigger):
                raise TriggerArgumentError("triggers", item, "expected a Trigger instance")
        sizes = [_size(item) for item in items]
        self._nodes = 1 + sum(nodes for nodes, _ in sizes)
        self._depth = 1 + max(depth for _, depth in sizes)
        check_combination(self._nodes, self._depth)
        self._triggers = items
        self._jitter = coerce_jitter(jitter)

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        require_aware(now, "now")
        require_aware(previous, "previous")
        return self._search(previous, now, _Budget())

    @abstractmethod
    def _search(self, previous: datetime | None, now: datetime, budget: _Budget) -> datetime | None:
        """:meth:`next_fire_time` drawing on ``budget``, which nested searches share."""

    @staticmethod
    def _ask(
        trigger: Trigger, previous: datetime | None, now: datetime, budget: _Budget
    ) -> datetime | None:
        """A child's fire time; combined children search within the same budget."""
        if isinstance(trigger, _CombiningTrigger):
            return trigger._search(previous, now, budget)
        return trigger.next_fire_time(previous, now)

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
    :data:`~tickwork.limits.MAX_TRIGGER_EVALUATIONS` child computations (shared with any
    nested combination), logs a warning and returns ``None`` (the schedule ends). A job
    whose trigger gives no first fire time is refused when it is added. Best used with
    cron/calendarinterval children; child jitter defeats agreement.
    """

    kind: ClassVar[str] = "and"
    __slots__ = ()

    def _search(self, previous: datetime | None, now: datetime, budget: _Budget) -> datetime | None:
        children = self._triggers
        if not budget.spend(len(children)):
            return self._give_up()
        times = [self._ask(trigger, previous, now, budget) for trigger in children]
        while True:
            if any(time is None for time in times):
                return None
            instants = [time.astimezone(UTC) for time in times if time is not None]
            latest = max(instants)
            if min(instants) == latest:
                return apply_jitter(times[0], self._jitter) if times[0] is not None else None
            lagging = times
            times = []
            for trigger, time, instant in zip(children, lagging, instants, strict=True):
                if instant == latest:
                    times.append(time)
                    continue
                if not budget.spend(1):
                    return self._give_up()
                candidate = self._ask(trigger, None, latest, budget)
                # A child answering with an earlier time (a past one-shot date) is done.
                if candidate is not None and candidate.astimezone(UTC) < latest:
                    candidate = None
                times.append(candidate)

    def _give_up(self) -> datetime | None:
        """End a search whose budget is spent: no fire time (logged)."""
        logger.warning(
            "and trigger of %d triggers: no common fire time within %d child computations",
            self._nodes - 1,
            MAX_TRIGGER_EVALUATIONS,
        )
        return None


class OrTrigger(_CombiningTrigger):
    """Fires whenever any child fires; finished when all children are.

    Every child gets the same ``previous`` (the last time *any* child fired), as in
    APScheduler 3. Our interval children keep to their own grid, so unlike APScheduler's
    they do not restart their count from another child's fire time.
    """

    kind: ClassVar[str] = "or"
    __slots__ = ()

    def _search(self, previous: datetime | None, now: datetime, budget: _Budget) -> datetime | None:
        best: datetime | None = None
        best_instant: datetime | None = None
        for trigger in self._triggers:
            time = self._ask(trigger, previous, now, budget)
            if time is None:
                continue
            instant = time.astimezone(UTC)
            if best_instant is None or instant < best_instant:
                best, best_instant = time, instant
        return None if best is None else apply_jitter(best, self._jitter)
