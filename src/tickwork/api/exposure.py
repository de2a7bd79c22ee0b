"""The rule for an API reachable from other machines without authentication.

The REST API can schedule (allow-listed) code, pause the cluster and read job arguments,
so serving it beyond loopback with no auth is almost always a mistake. The policy:

* the standalone server calls :func:`check_exposure` with ``refuse=True`` before binding:
  a non-loopback address without auth is a :class:`ConfigurationError` unless the operator
  says ``allow_insecure`` explicitly;
* the Flask extension cannot refuse, because the host application decides where it
  listens and may sit behind a proxy doing auth; it logs a warning at ``init_app`` when
  the API is enabled without auth, and an error the first time a request arrives from a
  non-loopback address while auth is off.
"""

from __future__ import annotations

import ipaddress
import logging

from tickwork.exceptions import ConfigurationError

logger = logging.getLogger("tickwork.api")

_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name, IPv6 possibly in brackets) is loopback only.

    Wildcards (``0.0.0.0``, ``::``, ``""``) listen everywhere, so they are not loopback.
    """
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_exposure(
    host: str, *, auth_enabled: bool, refuse: bool, allow_insecure: bool = False
) -> None:
    """Refuse (or warn about) serving the API on ``host`` without authentication.

    :param refuse: raise instead of logging (the standalone server).
    :param allow_insecure: the operator accepts an open API (e.g. auth in a proxy).
    :raises ConfigurationError: when ``refuse`` and the API would be open beyond loopback.
    """
    if auth_enabled or is_loopback(host):
        return
    message = (
        f"the tickwork REST API listens on {host!r}, beyond loopback, without authentication: "
        "anyone who can reach it can pause the scheduler and schedule allowed callables. "
        "Configure SCHEDULER_AUTH or SCHEDULER_API_TOKENS"
    )
    if refuse and not allow_insecure:
        raise ConfigurationError(message + ", or allow it explicitly")
    logger.warning(message)
