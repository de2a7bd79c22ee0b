"""Combined triggers are bounded in size, nesting and search effort (issue 11, finding 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickwork.exceptions import TriggerArgumentError
from tickwork.limits import MAX_TRIGGER_DEPTH, MAX_TRIGGER_EVALUATIONS, MAX_TRIGGER_NODES
from tickwork.triggers import (
    AndTrigger,
    CronTrigger,
    IntervalTrigger,
    OrTrigger,
    Trigger,
    build_trigger,
    trigger_from_dict,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


class Counting(Trigger):
    """A trigger that counts how often it is asked, around a real one."""

    kind = "interval"

    def __init__(self, inner: Trigger) -> None:
        self.inner = inner
        self.calls = 0

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        self.calls += 1
        return self.inner.next_fire_time(previous, now)

    def to_dict(self) -> dict[str, Any]:
        return self.inner.to_dict()


def _grid(offset_us: int) -> Counting:
    return Counting(
        IntervalTrigger(seconds=7, start_date=START + timedelta(microseconds=offset_us))
    )


def test_an_and_that_never_agrees_stops_within_the_budget() -> None:
    children = [_grid(0), _grid(1)]
    assert AndTrigger(children).next_fire_time(None, START) is None
    assert sum(child.calls for child in children) <= MAX_TRIGGER_EVALUATIONS


def test_nested_searches_share_one_budget() -> None:
    leaves = [_grid(0), _grid(1), _grid(2), _grid(3)]
    trigger = AndTrigger([AndTrigger(leaves[:2]), OrTrigger([AndTrigger(leaves[2:])])])
    assert trigger.next_fire_time(None, START) is None
    # Without sharing, each of the nested searches would spend a whole budget per round.
    assert sum(leaf.calls for leaf in leaves) <= MAX_TRIGGER_EVALUATIONS


def test_agreeing_children_are_still_found() -> None:
    friday_13th = AndTrigger(
        [CronTrigger(day=13, timezone="UTC"), CronTrigger(day_of_week="fri", timezone="UTC")]
    )
    assert friday_13th.next_fire_time(None, START) == datetime(2026, 2, 13, tzinfo=UTC)


def test_too_many_triggers_are_refused() -> None:
    crons = [CronTrigger(hour=1, timezone="UTC")] * MAX_TRIGGER_NODES
    with pytest.raises(TriggerArgumentError, match="at most") as raised:
        OrTrigger(crons)
    assert raised.value.field == "triggers"
    OrTrigger(crons[:-1])  # with the or itself: exactly the limit
    wide = {"type": "or", "triggers": [{"type": "cron", "hour": 1}] * MAX_TRIGGER_NODES}
    with pytest.raises(TriggerArgumentError, match="at most"):
        trigger_from_dict(wide)


@pytest.mark.parametrize("depth", [MAX_TRIGGER_DEPTH + 1, 300, 5000])
def test_deep_nesting_is_refused_before_recursing(depth: int) -> None:
    spec: dict[str, Any] = {"type": "cron", "hour": 1, "timezone": "UTC"}
    for _ in range(depth - 1):
        spec = {"type": "and", "triggers": [spec]}
    with pytest.raises(TriggerArgumentError, match="nested at most") as raised:
        build_trigger("and", triggers=[spec], timezone="UTC")
    assert raised.value.field == "triggers"
    with pytest.raises(TriggerArgumentError, match="nested at most"):
        trigger_from_dict({"type": "and", "triggers": [spec]})


def test_the_deepest_allowed_nesting_works() -> None:
    trigger: Trigger = CronTrigger(hour=1, timezone="UTC")
    for _ in range(MAX_TRIGGER_DEPTH):
        trigger = AndTrigger([trigger])
    assert trigger.next_fire_time(None, START) == datetime(2026, 1, 1, 1, tzinfo=UTC)
    assert trigger_from_dict(trigger.to_dict()) == trigger
    with pytest.raises(TriggerArgumentError, match="nested at most"):
        AndTrigger([trigger])
