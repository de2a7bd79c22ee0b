"""tickwork: a durable, cluster-safe job scheduler with APScheduler's API and a REST API."""

from tickwork._version import __version__
from tickwork.clock import Clock, ManualClock, SystemClock
from tickwork.engine import EngineSettings
from tickwork.exceptions import (
    CallableNotAllowedError,
    ConfigurationError,
    ConflictError,
    DatabaseUnavailableError,
    InvalidJobError,
    JobFinishedError,
    JobLookupError,
    MaxInstancesReachedError,
    NodeLookupError,
    RunTimedOutError,
    SchedulerStateError,
    SchemaMismatchError,
    StoreError,
    TickworkError,
    TriggerArgumentError,
)
from tickwork.executors.current import CurrentRun, current_run
from tickwork.job import Job
from tickwork.node import Node, NodeState, SchedulerState
from tickwork.run import Outcome, Run
from tickwork.scheduler import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED, Scheduler

__all__ = [
    "STATE_PAUSED",
    "STATE_RUNNING",
    "STATE_STOPPED",
    "CallableNotAllowedError",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "CurrentRun",
    "DatabaseUnavailableError",
    "EngineSettings",
    "InvalidJobError",
    "Job",
    "JobFinishedError",
    "JobLookupError",
    "ManualClock",
    "MaxInstancesReachedError",
    "Node",
    "NodeLookupError",
    "NodeState",
    "Outcome",
    "Run",
    "RunTimedOutError",
    "Scheduler",
    "SchedulerState",
    "SchedulerStateError",
    "SchemaMismatchError",
    "StoreError",
    "SystemClock",
    "TickworkError",
    "TriggerArgumentError",
    "__version__",
    "current_run",
]
