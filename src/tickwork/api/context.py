"""What every view needs: the scheduler, the auth policy and the host facts."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import request

from tickwork.api.auth import ApiAuth
from tickwork.api.exposure import is_loopback
from tickwork.scheduler import Scheduler

logger = logging.getLogger("tickwork.api")


@dataclass
class ApiContext:
    """State shared by the API's views, built once by :func:`~tickwork.api.install_api`.

    :param allowed_origins: browser origins besides the API's own that may send writes
        (normalised by :func:`~tickwork.origins.parse_allowed_origins`).
    :param start: what ``POST /start`` calls; the Flask extension passes its own ``start``
        so that ``SCHEDULER_ALLOWED_HOSTS`` applies there too.
    """

    scheduler: Scheduler
    auth: ApiAuth = field(default_factory=ApiAuth)
    allowed_hosts: Sequence[str] = ("*",)
    allowed_origins: frozenset[str] = frozenset()
    host_name: str = field(default_factory=lambda: socket.gethostname().lower())
    start: Callable[[], None] | None = None
    _warned_open: bool = False

    def start_scheduler(self) -> None:
        (self.start or self.scheduler.start)()

    def note_request(self) -> None:
        """Log once, loudly, when an open API is reached from another machine."""
        if self._warned_open or self.auth.enabled:
            return
        remote = request.remote_addr or ""
        if remote and not is_loopback(remote):
            self._warned_open = True
            logger.error(
                "the tickwork REST API has no authentication and was called from %s; "
                "configure SCHEDULER_AUTH or SCHEDULER_API_TOKENS",
                remote,
            )
