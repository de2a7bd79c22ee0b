"""Runs: one fire of a job, from claim to outcome, as recorded in the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """Where a run stands. ``running`` is the only state that is not final."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MISSED = "missed"
    LOST = "lost"
    #: Still running when its node shut down and the shutdown grace period ran out (or
    #: a second signal forced the exit).
    INTERRUPTED = "interrupted"
    #: Still going when the job's ``timeout`` ran out: ended there, whatever its call did
    #: after (see :func:`tickwork.current_run`).
    TIMED_OUT = "timed_out"
    #: Cancelled on request (``Store.request_cancel``), ended as a timeout would end it.
    CANCELLED = "cancelled"


class SkipReason(StrEnum):
    """Why a claim recorded a fire as ``missed`` instead of running it."""

    #: Claimed later than the job's ``misfire_grace_time`` allows.
    MISFIRED = "misfired"
    #: The job had ``max_instances`` runs going already.
    MAX_INSTANCES = "max_instances"


@dataclass(frozen=True, slots=True)
class Run:
    """A run as stored in history."""

    id: int
    job_id: str
    scheduled_time: datetime
    node_id: str | None
    outcome: Outcome
    manual: bool
    claimed_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: str | None
    error: str | None
    traceback: str | None
    #: How many earlier overdue fire times this run stands for (coalescing), so history
    #: accounts for every fire time the trigger produced.
    coalesced: int = 0
    #: The arguments a run-now gave for this run only; None: it got the job's own.
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    #: Who asked for this run-now (a user or token name), when known.
    requested_by: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds between start and end, when both are known."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": self.id,
            "job_id": self.job_id,
            "scheduled_time": iso(self.scheduled_time),
            "node_id": self.node_id,
            "outcome": self.outcome.value,
            "manual": self.manual,
            "claimed_at": iso(self.claimed_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration": self.duration,
            "result": self.result,
            "error": self.error,
            "traceback": self.traceback,
            "coalesced": self.coalesced,
            "args": self.args,
            "kwargs": self.kwargs,
            "requested_by": self.requested_by,
        }


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What a run-now asks for besides the job itself: arguments for this one run (each
    None: the job's own) and who asked (None: unknown). Checked by
    :meth:`Scheduler.run_job <tickwork.Scheduler.run_job>`, recorded on the run's row."""

    args: tuple[Any, ...] | None = None
    kwargs: dict[str, Any] | None = None
    requested_by: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a claimed run ended; written back to its row in batches."""

    job_id: str
    scheduled_time: datetime
    outcome: Outcome
    started_at: datetime | None
    finished_at: datetime
    result: str | None = None
    error: str | None = None
    traceback: str | None = None


@dataclass(frozen=True, slots=True)
class RunStart:
    """The moment a claimed run's callable was started; written while the run runs."""

    job_id: str
    scheduled_time: datetime
    started_at: datetime
