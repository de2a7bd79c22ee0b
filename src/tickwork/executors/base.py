"""The executor contract and the one function every executor uses to run a fire."""

from __future__ import annotations

import json
import threading
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tickwork.clock import Clock
from tickwork.exceptions import ConfigurationError, RunCancelledError, RunTimedOutError
from tickwork.executors import current
from tickwork.run import Outcome, RunResult
from tickwork.store.base import Fire
from tickwork.supervision import Health, describe

#: Longest result or error text kept in history.
MAX_TEXT = 10_000

StartedCallback = Callable[[Fire, datetime], None]


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
    #: Told ``(fire, started_at)`` when a fire's callable is about to be called, so the
    #: run's ``started_at`` is known while it runs. Must be quick and must not raise.
    on_started: StartedCallback | None = None
    #: The node's health, which supervised executor threads report to.
    health: Health = field(default_factory=Health)
    #: Asked by a worker just before it starts a fire: False means the fire must not
    #: start (its node was declared dead since the claim) and has been reported already.
    admit: Callable[[Fire], bool] | None = None


class Executor(ABC):
    """Runs fires somewhere (threads, processes, an event loop) and reports each outcome.

    Every submitted fire must be reported through ``on_finished`` exactly once, including
    when it cannot even start, and including ``shutdown(wait=False)``: a fire that has not
    started by then is not started, and is reported ``missed`` (see :func:`cancelled`).
    """

    @abstractmethod
    def start(self, context: ExecutionContext) -> None: ...

    @abstractmethod
    def submit(self, fire: Fire) -> None: ...

    @abstractmethod
    def shutdown(self, wait: bool = True) -> None: ...

    @abstractmethod
    def cancel(self, fire: Fire) -> None:
        """Stop a running fire whose timeout ran out (or that was cancelled on request), as
        far as this executor can.

        Called once, after the run was recorded ``timed_out`` (or ``cancelled``);
        whatever the fire reports afterwards is logged, not recorded. At least the run's
        :attr:`tickwork.CurrentRun.cancelled` must become true. Must be quick and must not
        raise.
        """


def late_by(fire: Fire, now: datetime) -> float | None:
    """Seconds past the grace time, or None when the fire may still start."""
    if fire.misfire_grace_time is None:
        return None
    lateness = (now - fire.scheduled_time).total_seconds()
    return lateness if lateness > fire.misfire_grace_time else None


def unstarted_result(fire: Fire, outcome: Outcome, now: datetime, reason: str) -> RunResult:
    """The outcome of a fire whose callable never ran (or whose end was not seen): missed,
    lost or interrupted, and why."""
    return RunResult(
        job_id=fire.job_id,
        scheduled_time=fire.scheduled_time,
        outcome=outcome,
        started_at=None,
        finished_at=now,
        error=reason,
    )


def missed_result(fire: Fire, now: datetime, reason: str) -> RunResult:
    """A fire that never started, and why."""
    return unstarted_result(fire, Outcome.MISSED, now, reason)


#: The error of a fire that an executor shut down without waiting never started.
SHUT_DOWN = "not started: the executor was shut down before the fire's turn came"


def cancelled(context: ExecutionContext, fire: Fire) -> None:
    """Report a fire the executor dropped at shutdown: ``missed``, never started."""
    context.on_finished(Finished(fire, missed_result(fire, context.clock.now(), SHUT_DOWN)))


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
    on_started: StartedCallback | None = None,
    *,
    cancel: threading.Event | None = None,
) -> Finished:
    """Call the job's function for one fire and describe how it went.

    The grace time is judged here, when a worker is about to start the call, as APScheduler
    does: a fire stuck behind busy workers for too long is missed, not run late. Whatever
    the function raises (``SystemExit`` included) is the run's failure, not the worker's.
    During the call the fire is :func:`tickwork.current_run`, cancelled when ``cancel`` is
    set.
    """
    started = clock.now()
    lateness = late_by(fire, started)
    if lateness is not None:
        return _too_late(fire, started, lateness)
    if on_started is not None:
        on_started(fire, started)
    token = current.enter(fire, cancel)
    try:
        if call_wrapper is None:
            retval = func(*fire.args, **fire.kwargs)
        else:
            retval = call_wrapper(lambda: func(*fire.args, **fire.kwargs))
    except BaseException as exc:
        return failure(fire, started, clock.now(), exc)
    finally:
        current.leave(token)
    return success(fire, started, clock.now(), retval)


async def run_fire_async(
    fire: Fire,
    func: Callable[..., Any],
    clock: Clock,
    on_started: StartedCallback | None = None,
    *,
    cancel: threading.Event | None = None,
) -> Finished:
    """:func:`run_fire` for coroutine functions, awaited on the caller's event loop.

    A job raising ``CancelledError`` or ``SystemExit`` fails; neither escapes to the loop.
    """
    started = clock.now()
    lateness = late_by(fire, started)
    if lateness is not None:
        return _too_late(fire, started, lateness)
    if on_started is not None:
        on_started(fire, started)
    token = current.enter(fire, cancel)
    try:
        retval = await func(*fire.args, **fire.kwargs)
    except BaseException as exc:
        return failure(fire, started, clock.now(), exc)
    finally:
        current.leave(token)
    return success(fire, started, clock.now(), retval)


def timed_out(fire: Fire, started: datetime, now: datetime) -> Finished:
    """A fire whose call was still going when its timeout ran out (``fire.timeout`` set)."""
    assert fire.timeout is not None
    return _ended_early(fire, started, now, RunTimedOutError(fire.job_id, fire.timeout))


def cancelled_on_request(fire: Fire, started: datetime | None, now: datetime) -> Finished:
    """A fire cancelled on request (see ``Store.request_cancel``) before it ended."""
    return _ended_early(fire, started, now, RunCancelledError(fire.job_id))


def _ended_early(
    fire: Fire, started: datetime | None, now: datetime, exc: RunTimedOutError | RunCancelledError
) -> Finished:
    outcome = Outcome.TIMED_OUT if isinstance(exc, RunTimedOutError) else Outcome.CANCELLED
    result = RunResult(
        job_id=fire.job_id,
        scheduled_time=fire.scheduled_time,
        outcome=outcome,
        started_at=started,
        finished_at=now,
        error=str(exc),
    )
    return Finished(fire, result, exception=exc)


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
        error=safe_text(describe(exc)[:MAX_TEXT]),
        traceback=safe_text(_format_traceback(exc)),
    )


def safe_text(text: str) -> str:
    """``text`` as every database can store it: lone surrogates and NUL escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _format_traceback(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(exc))[-MAX_TEXT:]
    except BaseException as broken:  # a pathological exception must not lose the run
        return f"<traceback unavailable: {describe(broken)}>"


def encode_result(retval: Any) -> str | None:
    """A job's return value as kept in history: JSON when possible, else its repr.

    Neither may fail the run: a value too deep for JSON or whose ``__repr__`` raises is
    kept as a placeholder that names its type and the problem.
    """
    if retval is None:
        return None
    try:
        try:
            text = json.dumps(retval, allow_nan=False, default=None)
        except (TypeError, ValueError):
            text = repr(retval)
        if not isinstance(text, str):
            raise TypeError(f"__repr__ returned {type(text).__name__}")
    except BaseException as exc:  # RecursionError, a raising __repr__, anything
        text = f"<unrepresentable result of type {type(retval).__qualname__}: {describe(exc)}>"
    return safe_text(text[:MAX_TEXT])
