"""Every error tickwork raises on purpose.

One root, so callers can catch everything of ours in one place. The REST layer maps these
types to status codes in one table (:mod:`tickwork.api.errors`), the CLI to exit codes in
another (:mod:`tickwork.cli.base`); an error about input names its ``field``::

    TickworkError
    ├── ConfigurationError           bad arguments or settings; nothing changed (400, exit 2)
    │   ├── TriggerArgumentError     a trigger field has a bad name, type or value
    │   ├── InvalidJobError          a job cannot be built or stored (not JSON, bad option)
    │   │   └── CallableNotAllowedError  its callable may not be scheduled (403)
    │   │       └── CallNotEditableError what it calls may not change over the API (403)
    │   └── RequestError             a malformed request: body, query, headers (400)
    │       └── UnsupportedMediaTypeError  a body not sent as JSON (415)
    ├── AccessError                  a request the REST API will not serve
    │   ├── AuthenticationError      no valid credentials (401, with the challenge)
    │   ├── TooManyAttemptsError     too many failed sign-ins; wait (429, Retry-After)
    │   └── OriginRefusedError       an unsafe request from a foreign origin (403)
    ├── ConflictError                a job id that is already taken (409)
    ├── JobFinishedError             resume of a job whose trigger has no fire time left (409)
    ├── JobLookupError               no job with that id (404)
    ├── NodeLookupError              no node with that id (404)
    ├── SchedulerStateError          start while running, shutdown while stopped (400)
    │   └── MaxInstancesReachedError a run-now of a job already running max_instances times (409)
    ├── RunFailedError               a run started on request did not succeed (CLI: exit 1)
    ├── WorkerDiedError              a process pool worker died running a fire (kept in history)
    └── StoreError                   the database failed; the driver's error is ``__cause__``
        ├── DatabaseUnavailableError the database cannot be reached (worth retrying)
        └── SchemaMismatchError      the database's schema is not the one this tickwork needs

Argument errors also derive from :class:`ValueError`, and lookup errors from
:class:`KeyError`, so code written against APScheduler's exceptions keeps working.
"""

from __future__ import annotations


class TickworkError(Exception):
    """Root of every error tickwork raises on purpose."""


class ConfigurationError(TickworkError, ValueError):
    """Bad arguments or settings; nothing was changed.

    :param field: the offending field, for programs (the REST API's ``"field"``), when
        the error is about one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TriggerArgumentError(ConfigurationError):
    """A trigger argument has an unknown name, a wrong type or a value out of range.

    :param field: name of the offending argument, such as ``"hour"``.
    :param value: the value given for it.
    :param reason: what is wrong, for people.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={_shown(value)}: {reason}", field=field)

    field: str


def _shown(value: object) -> str:
    """``repr(value)``, shortened; Python refuses to print integers of over 4300 digits."""
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= 200 else f"{text[:200]}..."


class InvalidJobError(ConfigurationError):
    """A job cannot be built or stored, for instance because an argument is not JSON."""


class CallableNotAllowedError(InvalidJobError):
    """The callable may not be scheduled: for an untrusted caller it is neither a registered
    task nor allow-listed, and for anyone a reference naming something its module does not
    define (see :mod:`tickwork.refs`)."""

    def __init__(self, message: str, *, field: str | None = "func") -> None:
        super().__init__(message, field=field)


class CallNotEditableError(CallableNotAllowedError):
    """What a job calls (``field``: ``func``, ``args`` or ``kwargs``) may not be changed by
    an untrusted caller, because the job's func is not one it could have scheduled."""


class RequestError(ConfigurationError):
    """A request is malformed (its body, a query parameter, a header); ``field`` names it."""


class UnsupportedMediaTypeError(RequestError):
    """A request body was not sent as JSON (``field`` is ``Content-Type``)."""


class AccessError(TickworkError):
    """A request the REST API will not serve, whatever its content."""


class AuthenticationError(AccessError):
    """The request has no valid credentials.

    :param challenge: the ``WWW-Authenticate`` value saying which credentials would do.
    """

    def __init__(self, message: str, *, challenge: str) -> None:
        super().__init__(message)
        self.challenge = challenge


class TooManyAttemptsError(AccessError):
    """Too many failed sign-ins came from this client; it may try again in ``retry_after``
    seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins from this address; retry in {retry_after} s")
        self.retry_after = retry_after


class OriginRefusedError(AccessError):
    """An unsafe request came from an origin the API does not trust (cross-site request
    forgery protection); ``field`` is the header that named it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(TickworkError):
    """A job with that id exists already (and ``replace_existing`` was not set)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"Job identifier ({job_id}) conflicts with an existing job")


class JobFinishedError(TickworkError):
    """The job's trigger has no fire time left, so it cannot be resumed; it is kept."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(
            f"Job {job_id} cannot be resumed: its trigger has no fire time left "
            "(give it a new trigger, or remove it)"
        )


class JobLookupError(TickworkError, KeyError):
    """No job has that id."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"No job by the id of {job_id} was found")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class NodeLookupError(TickworkError, KeyError):
    """No scheduler node has that id."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"No node by the id of {node_id} was found")

    def __str__(self) -> str:
        return str(self.args[0])


class SchedulerStateError(TickworkError):
    """The scheduler is not in a state that allows the call (start twice, shut down twice)."""


class JobNotBoundError(SchedulerStateError):
    """A :class:`~tickwork.job.Job` method needs the scheduler the job came from, and this
    job was built elsewhere (by hand, by the store, by ``dataclasses.replace``)."""


class MaxInstancesReachedError(SchedulerStateError):
    """A manual run was refused: the job already has ``max_instances`` runs running,
    counted across the cluster."""

    def __init__(self, job_id: str, max_instances: int) -> None:
        self.job_id = job_id
        self.max_instances = max_instances
        super().__init__(
            f"job {job_id} is already running {max_instances} time(s), its max_instances; "
            "run it again when a run has finished"
        )


class RunFailedError(TickworkError):
    """A run started on request (``tickwork jobs run``) ended without succeeding; its
    outcome is recorded in history."""


class WorkerDiedError(TickworkError):
    """A process pool's worker ended while running (or holding) a fire.

    Not raised to callers: it is a run's failure as kept in history.
    """


class StoreError(TickworkError):
    """The database failed; the driver's exception is kept as ``__cause__``."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached right now (down, restarting, network); retrying
    later may succeed."""


class SchemaMismatchError(StoreError):
    """The database's schema is not the one this version of tickwork needs (a newer
    revision, or tables and columns missing); the message says what to do."""
