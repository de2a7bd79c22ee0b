"""Bounding what failed logins cost: per-client back-off after a few wrong credentials.

Checking a password hash is slow on purpose (scrypt takes tens of milliseconds of CPU), so
unauthenticated clients sending wrong passwords could keep every core busy. Each client
address gets :data:`FREE_FAILURES` attempts; after that it must wait before its next one,
twice as long after every further failure (up to :data:`MAX_DELAY`). While it waits it is
answered 429 with ``Retry-After`` and its credentials are not checked at all, so a busy
attacker costs one hash per back-off period. Attempts in flight count too: one client's
parallel requests cannot get past the limit by arriving together.

Other clients are not affected, and a success forgets the client's failures. Requests that
carry no credentials cost nothing and are not counted. IPv6 clients are counted per /64
network, since one host usually owns a whole one. Behind a reverse proxy every client has
the proxy's address: apply ``werkzeug.middleware.proxy_fix.ProxyFix`` so the real address is
used, or a busy attacker blocks everyone.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic

#: Wrong credentials a client may send before it has to wait.
FREE_FAILURES = 5
#: The first wait, in seconds; it doubles with every further failure.
FIRST_DELAY = 1.0
#: The longest wait, in seconds.
MAX_DELAY = 300.0
#: A client quiet for this long (seconds) after its last failure and wait starts afresh.
FORGET_AFTER = 900.0
#: Clients remembered at once; the least recently seen are forgotten first.
MAX_CLIENTS = 10_000


@dataclass
class _Client:
    failures: int = 0
    in_flight: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class FailureThrottle:
    """Counts failed credential checks per client and says when a client must wait.

    :param clock: monotonic seconds; tests pass a clock that only moves when told.
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or monotonic
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, client: str) -> int:
        """Reserve a credential check for ``client``: 0 if it may go ahead, else the whole
        seconds it must wait (for ``Retry-After``). Every admission needs a :meth:`settle`.
        """
        now = self._clock()
        with self._lock:
            record = self._record(client, now)
            if now < record.blocked_until:
                return max(1, math.ceil(record.blocked_until - now))
            if record.failures + record.in_flight >= FREE_FAILURES and record.in_flight:
                return math.ceil(FIRST_DELAY)
            record.in_flight += 1
            return 0

    def settle(self, client: str, *, succeeded: bool) -> None:
        """Record the outcome of an admitted check."""
        now = self._clock()
        with self._lock:
            record = self._record(client, now)
            record.in_flight = max(0, record.in_flight - 1)
            if succeeded:
                record.failures = 0
                record.blocked_until = 0.0
                if not record.in_flight:
                    del self._clients[client]
                return
            record.failures += 1
            record.last_failure = now
            excess = record.failures - FREE_FAILURES
            if excess >= 0:
                delay = min(FIRST_DELAY * 2.0 ** min(excess, 32), MAX_DELAY)
                record.blocked_until = now + delay

    def _record(self, client: str, now: float) -> _Client:
        record = self._clients.pop(client, None)
        if record is None or (
            not record.in_flight
            and now - max(record.last_failure, record.blocked_until) > FORGET_AFTER
        ):
            record = _Client()
        self._clients[client] = record
        while len(self._clients) > MAX_CLIENTS:
            self._clients.popitem(last=False)
        return record


def client_key(address: str | None) -> str:
    """The throttled unit for a remote address: the address, or its /64 for IPv6."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
