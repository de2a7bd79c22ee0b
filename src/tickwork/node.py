"""Scheduler nodes (processes) and the scheduler row's global state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class NodeState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Node:
    """One scheduler process sharing the database."""

    id: str
    host: str
    pid: int
    version: str
    state: NodeState
    is_paused: bool
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "version": self.version,
            "state": self.state.value,
            "is_paused": self.is_paused,
            "started_at": self.started_at.isoformat(),
            "heartbeat_at": self.heartbeat_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }


@dataclass(frozen=True, slots=True)
class SchedulerState:
    """The single scheduler row: state shared by every node."""

    is_paused: bool
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"is_paused": self.is_paused, "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True, slots=True)
class PauseState:
    """What a node must obey: it runs nothing while either flag is set."""

    global_paused: bool
    node_paused: bool

    @property
    def paused(self) -> bool:
        return self.global_paused or self.node_paused
