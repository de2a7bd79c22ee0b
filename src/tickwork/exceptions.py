"""Every error tickwork raises on purpose.

One root, so callers can catch everything of ours in one place; the REST layer maps the
leaves to status codes in one function::

    TickworkError
    ├── ConfigurationError           bad arguments or settings (REST: 400)
    │   ├── TriggerArgumentError     a trigger field has a bad name, type or value
    │   └── InvalidJobError          a job cannot be built or stored (not JSON, bad option)
    │       └── CallableNotAllowedError  its callable may not be scheduled (REST: 403)
    ├── ConflictError                a job id that is already taken (409)
    ├── JobFinishedError             resume of a job whose trigger has no fire time left (409)
    ├── JobLookupError               no job with that id (404)
    ├── NodeLookupError              no node with that id (404)
    ├── SchedulerStateError          start while running, shutdown while stopped (400)
    │   └── MaxInstancesReachedError a run-now of a job already running max_instances times (409)
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


class StoreError(TickworkError):
    """The database failed; the driver's exception is kept as ``__cause__``."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached right now (down, restarting, network); retrying
    later may succeed."""


class SchemaMismatchError(StoreError):
    """The database's schema is not the one this version of tickwork needs (a newer
    revision, or tables and columns missing); the message says what to do."""
