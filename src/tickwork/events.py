"""Events delivered to listeners, with APScheduler 3's codes so masks keep their meaning.

Listeners run in the thread that produced the event (the engine, a worker, or the caller
of an API method), as in APScheduler; they should be quick and must not raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EVENT_SCHEDULER_STARTED = EVENT_SCHEDULER_START = 2**0
EVENT_SCHEDULER_SHUTDOWN = 2**1
EVENT_SCHEDULER_PAUSED = 2**2
EVENT_SCHEDULER_RESUMED = 2**3
EVENT_EXECUTOR_ADDED = 2**4
EVENT_EXECUTOR_REMOVED = 2**5
EVENT_JOBSTORE_ADDED = 2**6
EVENT_JOBSTORE_REMOVED = 2**7
EVENT_ALL_JOBS_REMOVED = 2**8
EVENT_JOB_ADDED = 2**9
EVENT_JOB_REMOVED = 2**10
EVENT_JOB_MODIFIED = 2**11
EVENT_JOB_EXECUTED = 2**12
EVENT_JOB_ERROR = 2**13
EVENT_JOB_MISSED = 2**14
EVENT_JOB_SUBMITTED = 2**15
EVENT_JOB_MAX_INSTANCES = 2**16
EVENT_JOB_LOST = 2**17
EVENT_ALL = 2**18 - 1


@dataclass(frozen=True, slots=True)
class SchedulerEvent:
    """Something happened to the scheduler as a whole."""

    code: int
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class JobEvent(SchedulerEvent):
    """Something happened to one job."""

    job_id: str = ""
    jobstore: str = "default"


@dataclass(frozen=True, slots=True)
class JobSubmissionEvent(JobEvent):
    """A job's fire was handed to an executor (or refused by ``max_instances``).

    ``scheduled_run_times`` is a list, as in APScheduler; tickwork submits each fire time
    on its own, so it holds one.
    """

    scheduled_run_times: list[datetime] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class JobExecutionEvent(JobEvent):
    """A fire finished, failed, was missed or was lost.

    ``started_at`` and ``finished_at`` are set for fires that reached an executor (the
    call's start, or None when it never started, and the moment its outcome was known), so
    listeners can measure lateness and duration without reading the history.
    """

    scheduled_run_time: datetime | None = None
    retval: Any = None
    exception: BaseException | None = None
    traceback: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
