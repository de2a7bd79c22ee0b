"""Keeping a node's internal threads alive, or saying loudly that they are not.

Every thread tickwork starts (engine loop, dispatch, recorder, heartbeat, an executor's
event loop) runs under :func:`supervised_thread`: a crash of any kind, ``SystemExit`` and
``KeyboardInterrupt`` from user code included, is logged and the thread's body started
again. A body that keeps crashing makes the node unhealthy (:class:`Health`), whose
observers stop the node and, under ``tickwork serve``, end the process with a non-zero
status so a supervisor restarts it. A node never keeps heartbeating while firing nothing.

Work done per item on a shared thread (one listener call, one fire handed to an executor)
goes through :func:`contained`, so one item's exception stays that item's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: A thread body may crash this many times within :data:`CRASH_WINDOW` seconds and be
#: restarted; one more crash makes the node unhealthy.
MAX_RESTARTS = 5
CRASH_WINDOW = 60.0
#: Longest pause before a crashed body starts again (the pause doubles from 0.05 s).
MAX_BACKOFF = 2.0


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, even one whose ``__str__`` raises."""
    try:
        message = str(exc)
    except BaseException as broken:  # a hostile __str__ can raise anything
        message = f"<unprintable: __str__ raised {type(broken).__name__}>"
    return f"{type(exc).__name__}: {message}"


class Health:
    """Whether this node can still do its work; the first fatal problem says why."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._observers: list[Callable[[str], None]] = []

    @property
    def healthy(self) -> bool:
        return self._reason is None

    @property
    def reason(self) -> str | None:
        """Why the node is unhealthy (None while it is healthy)."""
        return self._reason

    def observe(self, observer: Callable[[str], None]) -> None:
        """Call ``observer(reason)`` once when the node becomes unhealthy."""
        with self._lock:
            self._observers.append(observer)

    def fail(self, reason: str) -> None:
        """Mark the node unhealthy; only the first reason is kept and reported."""
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            observers = list(self._observers)
        logger.critical("node unhealthy: %s", reason)
        for observer in observers:
            contained(f"health observer {observer!r}", observer, reason)


def contained(what: str, func: Callable[..., object], *args: object) -> bool:
    """Call ``func(*args)``; log any exception as an error in ``what``. True if it returned.

    On the main thread ``SystemExit`` and ``KeyboardInterrupt`` still propagate: there
    they may be the user's Ctrl+C or ``tickwork serve``'s signal handler, and the main
    thread belongs to the application, not to tickwork.
    """
    try:
        func(*args)
    except BaseException as exc:  # one item's trouble must stay its own
        stopping = isinstance(exc, SystemExit | KeyboardInterrupt)
        if stopping and threading.current_thread() is threading.main_thread():
            raise
        logger.error("error in %s: %s", what, describe(exc), exc_info=exc)
        return False
    return True


def supervised_thread(
    name: str, body: Callable[[], None], health: Health, *, daemon: bool = True
) -> threading.Thread:
    """A thread (not started) that runs ``body`` until it returns, restarting it on a crash.

    ``body`` must keep its state outside the call (queues, heaps) so a restart resumes
    the work. More than :data:`MAX_RESTARTS` crashes within :data:`CRASH_WINDOW` seconds
    fail ``health`` and end the thread.
    """

    def run() -> None:
        crashes: deque[float] = deque()
        while True:
            try:
                body()
                return
            except BaseException as exc:  # supervision is the point
                now = time.monotonic()
                crashes.append(now)
                while crashes and now - crashes[0] > CRASH_WINDOW:
                    crashes.popleft()
                if len(crashes) > MAX_RESTARTS:
                    logger.critical("thread %s crashed: %s", name, describe(exc), exc_info=exc)
                    health.fail(f"thread {name} keeps crashing; last: {describe(exc)}")
                    return
                logger.error(
                    "thread %s crashed (%s); restarting it", name, describe(exc), exc_info=exc
                )
                time.sleep(min(0.05 * 2 ** len(crashes), MAX_BACKOFF))

    return threading.Thread(target=run, name=name, daemon=daemon)
