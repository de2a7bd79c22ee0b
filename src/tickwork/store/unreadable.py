"""A stand-in for a stored trigger that this version cannot decode.

A row whose trigger JSON is corrupt, or names a trigger type of a newer version (a
rolling upgrade), must not make listings fail: it is shown with this trigger, which says
what is wrong, keeps the stored text so that writes of other fields leave it unchanged, and
refuses to compute fire times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from tickwork.exceptions import InvalidJobError
from tickwork.triggers import Trigger

#: Characters of the stored text shown in listings.
_SHOWN = 500


class UnreadableTrigger(Trigger):
    """The stored ``text`` of a trigger that failed to decode with ``reason``."""

    kind: ClassVar[str] = "unreadable"

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason

    def next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        raise InvalidJobError(
            f"the stored trigger cannot be read ({self.reason}); give the job a new trigger"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "reason": self.reason, "stored": self.text[:_SHOWN]}

    def __str__(self) -> str:
        return f"unreadable[{self.reason}]"
