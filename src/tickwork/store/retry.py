"""Which store errors are worth trying again, and how long to wait between tries.

One place decides, for every loop that retries a store call (the claim loop, the
recorder, the LISTEN connection) and for the one immediate retry of a method whose
connection turned out to be dead (:func:`retry_once`).

A retried *write* is only safe when it cannot do twice what its first attempt did. A
connection that fails before ``COMMIT`` was sent rolled the transaction back, so any
method may run again. A connection that fails while committing leaves the outcome in
doubt (:class:`CommitInDoubtError`): the first attempt may have committed. Only methods
that are idempotent, or that recognise their own earlier commit, retry then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from tickwork.exceptions import DatabaseUnavailableError

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: First and longest wait of :func:`backoff`, in seconds.
FIRST_DELAY = 0.1
MAX_DELAY = 5.0


class CommitInDoubtError(DatabaseUnavailableError):
    """The connection failed while committing: the transaction may or may not have
    been applied."""


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same store call again later may succeed: the database could
    not be reached or the connection dropped (not bad data, not a constraint)."""
    return isinstance(exc, DatabaseUnavailableError)


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` came from a connection the pool has just discarded as dead, so a
    fresh connection at once (not after a wait) is likely to work."""
    cause = exc.__cause__
    return (
        is_transient(exc) and isinstance(cause, DBAPIError) and bool(cause.connection_invalidated)
    )


def backoff(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: doubling, capped."""
    return float(min(FIRST_DELAY * 2 ** max(failures - 1, 0), MAX_DELAY))


def retry_once(name: str, attempt: Callable[[bool], _T], *, idempotent: bool) -> _T:
    """Call ``attempt(False)``; when its connection turned out to be dead, call ``attempt``
    once more on a fresh one, telling it whether the first attempt's commit is in doubt.

    After a database restart every pooled connection is stale; SQLAlchemy notices on
    first use and discards the pool, so one retry is enough (checking each connection
    before use would cost a round trip per transaction). When the commit itself was in
    doubt, only an ``idempotent`` attempt is retried; others re-raise, and the caller
    learns that the outcome is unknown. A write that retries in doubt looks for what its
    first attempt may have committed and takes it as its own result.
    """
    try:
        return attempt(False)
    except DatabaseUnavailableError as exc:
        if not connection_lost(exc) or (isinstance(exc, CommitInDoubtError) and not idempotent):
            raise
        logger.info("database connection lost; retrying %s once", name)
        return attempt(isinstance(exc, CommitInDoubtError))
