"""The executor contract and the one function every executor uses to run a fire."""

from __future__ import annotations

import json
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tickwork.clock import Clock
from tickwork.exceptions import ConfigurationError
from tickwork.run import Outcome, RunResult
from tickwork.store.base import Fire

#: Longest result or error text kept in history.
MAX_TEXT = 10_000


@dataclass(frozen=True, slots=True)
class Finished:
    """A fire's result plus what listeners want that the store does not keep."""

    fire: Fire
    result: RunResult
    retval: Any = None
    exception: BaseException | None = None


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """What an executor needs from the scheduler: callables, time, and where to report."""

    resolve: Callable[[str], Callable[..., Any]]
    clock: Clock
    on_finished: Callable[[Finished], None]
    call_wrapper: Callable[[Callable[[], Any]], Any] | None = None
    #: Asked by a worker just before it starts a fire: False means the fire must not
    #: start (its node was declared dead since the claim) and has been reported already.
    admit: Callable[[Fire], bool] | None = None


class Executor(ABC):
    """Runs fires somewhere (threads, processes, an event loop) and reports each outcome.

    Every submitted fire must be reported through ``on_finished`` exactly once, including
    when it cannot even start.
    """

    @abstractmethod
    def start(self, context: ExecutionContext) -> None: ...

    @abstractmethod
    def submit(self, fire: Fire) -> None: ...

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None: ...


def late_by(fire: Fire, now: datetime) -> float | None:
    """Seconds past the grace time, or None when the fire may still start."""
    if fire.misfire_grace_time is None:
        return None
    lateness = (now - fire.scheduled_time).total_seconds()
    return lateness if lateness > fire.misfire_grace_time else None


def missed_result(fire: Fire, now: datetime, reason: str) -> RunResult:
    """A fire that never started, and why."""
    return RunResult(
        job_id=fire.job_id,
        scheduled_time=fire.scheduled_time,
        outcome=Outcome.MISSED,
        started_at=None,
        finished_at=now,
        error=reason,
    )


def _too_late(fire: Fire, now: datetime, lateness: float) -> Finished:
    reason = (
        f"started {lateness:.3f} s late, beyond misfire_grace_time {fire.misfire_grace_time:g} s"
    )
    return Finished(fire, missed_result(fire, now, reason))


def run_fire(
    fire: Fire,
    func: Callable[..., Any],
    clock: Clock,
    call_wrapper: Callable[[Callable[[], Any]], Any] | None = None,
) -> Finished:
    """Call the job's function for one fire and describe how it went.

    The grace time is judged here, when a worker is about to start the call, as APScheduler
    does: a fire stuck behind busy workers for too long is missed, not run late.
    """
    started = clock.now()
    lateness = late_by(fire, started)
    if lateness is not None:
        return _too_late(fire, started, lateness)
    try:
        if call_wrapper is None:
            retval = func(*fire.args, **fire.kwargs)
        else:
            retval = call_wrapper(lambda: func(*fire.args, **fire.kwargs))
    except BaseException as exc:
        return failure(fire, started, clock.now(), exc)
    return success(fire, started, clock.now(), retval)


async def run_fire_async(fire: Fire, func: Callable[..., Any], clock: Clock) -> Finished:
    """:func:`run_fire` for coroutine functions, awaited on the caller's event loop."""
    started = clock.now()
    lateness = late_by(fire, started)
    if lateness is not None:
        return _too_late(fire, started, lateness)
    try:
        retval = await func(*fire.args, **fire.kwargs)
    except Exception as exc:
        return failure(fire, started, clock.now(), exc)
    return success(fire, started, clock.now(), retval)


def success(fire: Fire, started: datetime, finished: datetime, retval: Any) -> Finished:
    result = RunResult(
        job_id=fire.job_id,
        scheduled_time=fire.scheduled_time,
        outcome=Outcome.SUCCEEDED,
        started_at=started,
        finished_at=finished,
        result=encode_result(retval),
    )
    return Finished(fire, result, retval=retval)


def check_max_workers(max_workers: object) -> int:
    """Executors' pool size: a positive integer, or ConfigurationError."""
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ConfigurationError(f"max_workers must be a positive integer, got {max_workers!r}")
    return max_workers


def failure(
    fire: Fire, started: datetime | None, finished: datetime, exc: BaseException
) -> Finished:
    """A fire that raised (or could not even start)."""
    return Finished(fire, failed_result(fire, started, finished, exc), exception=exc)


def failed_result(
    fire: Fire, started: datetime | None, finished: datetime, exc: BaseException
) -> RunResult:
    return RunResult(
        job_id=fire.job_id,
        scheduled_time=fire.scheduled_time,
        outcome=Outcome.FAILED,
        started_at=started,
        finished_at=finished,
        error=f"{type(exc).__name__}: {exc}"[:MAX_TEXT],
        traceback="".join(traceback.format_exception(exc))[-MAX_TEXT:],
    )


def encode_result(retval: Any) -> str | None:
    """A job's return value as kept in history: JSON when possible, else its repr."""
    if retval is None:
        return None
    try:
        text = json.dumps(retval, allow_nan=False, default=None)
    except (TypeError, ValueError):
        text = repr(retval)
    return text[:MAX_TEXT]
