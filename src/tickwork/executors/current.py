"""The run a job's code belongs to: :func:`current_run`.

A job calls ``tickwork.current_run()`` to learn which fire it is running for, and to stop
cooperatively once the run is cancelled (its ``timeout`` ran out): a thread cannot be
killed, so a long job on the thread pool should check :attr:`CurrentRun.cancelled` between
steps. The run is kept in a :class:`~contextvars.ContextVar`, so it follows the call into
coroutines and into ``asyncio.to_thread``, and each worker thread sees only its own.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import datetime

from tickwork.exceptions import SchedulerStateError
from tickwork.store.base import Fire


@dataclass(frozen=True, slots=True, eq=False)
class CurrentRun:
    """The run being executed: its job, its scheduled time (with the job id, the run's
    key in history) and whether it was cancelled."""

    job_id: str
    scheduled_time: datetime
    _cancel: threading.Event = field(repr=False)

    @property
    def cancelled(self) -> bool:
        """True once the run was cancelled (its timeout ran out): stop and return soon;
        whatever the call returns from then on is logged, not recorded."""
        return self._cancel.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds (None: for ever) until the run is cancelled;
        return :attr:`cancelled`. A cancellable sleep for jobs that wait between steps."""
        return self._cancel.wait(timeout)


#: The fire being run and its cancel event; the :class:`CurrentRun` view is built only when
#: asked for, so a run whose job never asks costs one tuple.
_CURRENT: ContextVar[tuple[Fire, threading.Event | None]] = ContextVar("tickwork_current_run")


def current_run() -> CurrentRun:
    """The run the calling code is part of; SchedulerStateError outside a tickwork run.

    In a process-pool worker it works too, but a timed-out child is killed rather than
    told, so there :attr:`CurrentRun.cancelled` stays false.
    """
    try:
        fire, cancel = _CURRENT.get()
    except LookupError:
        raise SchedulerStateError("current_run() was called outside a tickwork run") from None
    return CurrentRun(fire.job_id, fire.scheduled_time, cancel or _NEVER)


_Token = Token[tuple[Fire, threading.Event | None]]


def enter(fire: Fire, cancel: threading.Event | None) -> _Token:
    """Make ``fire`` the current run (until :func:`leave`); ``cancel`` is the event set
    when it is cancelled, or None for a run that nothing can cancel."""
    return _CURRENT.set((fire, cancel))


def leave(token: _Token) -> None:
    _CURRENT.reset(token)


#: The cancel event of runs without a timeout: never set (nothing outside can reach it).
_NEVER = threading.Event()
