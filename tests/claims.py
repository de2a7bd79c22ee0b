"""Watching an engine's claims, so a test can say "nothing fired" without a fixed wait.

A check that something did *not* happen needs a moment after which it would have: here,
a claim transaction that began after the change under test. Sleeping a while instead
passes vacuously on a slow machine (the engine never looked) and wastes time on a fast one.
"""

from __future__ import annotations

import threading

from tests.conftest import eventually
from tickwork import Scheduler


class ClaimWatch:
    """Counts the claim transactions of a scheduler's engine (``Engine.add_claim_observer``)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._claims = 0
        scheduler.engine.add_claim_observer(self._observe)

    def _observe(self, seconds: float, fires: int) -> None:
        with self._lock:
            self._claims += 1

    @property
    def claims(self) -> int:
        with self._lock:
            return self._claims

    def wait_for_a_claim(self, timeout: float = 10.0) -> None:
        """Return once a whole claim transaction has run after this call began.

        The one finishing first may have started before the call, so wait for the second:
        claims run one after another on the engine's thread, so it started after the call.
        """
        start = self.claims
        self._scheduler.wakeup()
        eventually(lambda: self.claims >= start + 2, timeout=timeout)
