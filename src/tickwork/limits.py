"""Every bound tickwork puts on input, declared once.

A scheduler does work on behalf of whoever may add jobs: each bound here caps what one job
can cost the cluster (CPU inside a claim transaction, rows per second, bytes per listing)
or keeps a value inside what both database backends store and Python's datetime
arithmetic can handle. Validation (triggers, jobs, the REST API) and the OpenAPI document
read them from here, so a limit is changed in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from tickwork.exceptions import InvalidJobError, TriggerArgumentError

#: Earliest instant a job or trigger may name. Before the Unix epoch nothing can be due
#: that was not already missed, and SQLite keeps instants as microseconds since it.
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Latest instant a job or trigger may name. Python stops at 9999-12-31 (naive, so any
#: zone east or west of UTC overflows near it); the margin leaves room for adding jitter,
#: misfire grace and interval steps (each at most :data:`MAX_DURATION`) without overflow.
LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)
#: Longest interval, jitter or misfire grace time (100 years).
MAX_DURATION: Final = timedelta(days=36_525)

#: Default shortest interval of an ``interval`` trigger, in seconds; configurable as
#: ``EngineSettings.min_interval`` (``[engine] min_interval``). Each fire writes a run row,
#: so a 1 µs interval would write tens of thousands of rows per second.
DEFAULT_MIN_INTERVAL: Final = 0.1

#: Most triggers in one combined (``and``/``or``) trigger, counting every level.
MAX_TRIGGER_NODES: Final = 64
#: Deepest nesting of combined triggers (``and`` of ``or`` of ... ).
MAX_TRIGGER_DEPTH: Final = 4
#: Most child fire-time computations one ``and`` search may make before giving up; bounds
#: the CPU one job can take inside a request or a claim transaction (a few ms per 1000).
MAX_TRIGGER_EVALUATIONS: Final = 10_000

#: Longest cron field expression, in characters (a list of all 60 minutes takes 170).
MAX_CRON_EXPRESSION: Final = 1000

#: Deepest nesting of a job's ``args``/``kwargs`` (and of any value in a REST body).
MAX_JSON_DEPTH: Final = 32
#: Largest ``args`` or ``kwargs``, as compact JSON text, in bytes.
MAX_ARGUMENTS_BYTES: Final = 1024 * 1024
#: Per job, the most bytes of ``args`` plus ``kwargs`` a job *listing* carries; a longer
#: job is listed with empty arguments and ``"args_truncated": true`` (its own route has
#: them whole), so one job with big arguments cannot make every dashboard refresh heavy.
LIST_ARGUMENTS_BYTES: Final = 4096

#: Longest note a job may be paused with (``pause_job(id, note=...)``), in characters.
MAX_PAUSE_NOTE_CHARS: Final = 1000
#: Longest name of who asked for a run-now or a pause (a user name, a token's name), in
#: characters; longer names from an authentication callback are cut to it.
MAX_REQUESTER_CHARS: Final = 200
#: Characters no text meant for people may hold (a pause note, a requester's name):
#: control characters, and the bidirectional overrides and isolates that make text display
#: as something else than it is (U+202A-U+202E, U+2066-U+2069).
UNREADABLE_CHARS: Final = frozenset(
    {*map(chr, range(32)), *map(chr, range(0x7F, 0xA0)), *map(chr, range(0x202A, 0x202F))}
    | set(map(chr, range(0x2066, 0x206A)))
)

#: Largest integer of a 32-bit column (``max_instances``), the same on every backend.
MAX_INT32: Final = 2**31 - 1
#: Longest job id (the index of the jobs' primary key stays small on every backend).
MAX_ID_LENGTH: Final = 191
#: Characters a job id may not contain: ``/`` cannot be addressed by a REST route
#: (``/scheduler/jobs/<id>``), control characters are unreadable in logs and URLs.
ID_FORBIDDEN: Final = frozenset({"/", "\x7f", *map(chr, range(32))})


def check_instant(field: str, moment: datetime | None, given: object) -> datetime:
    """Return ``moment`` (aware) if it lies within :data:`EARLIEST`..:data:`LATEST`.

    :param moment: ``None`` when converting ``given`` already overflowed.
    :param given: the value as the caller gave it, for the message.
    :raises TriggerArgumentError: naming ``field`` otherwise.
    """
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise TriggerArgumentError(
            field, given, f"out of the supported range {EARLIEST.date()} .. {LATEST.date()}"
        )
    return moment


def check_seconds(field: str, value: float) -> float:
    """Return a duration in seconds if it is a number from 0 to :data:`MAX_DURATION`; raise
    :class:`TriggerArgumentError` naming ``field`` otherwise (NaN and infinity included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TriggerArgumentError(field, value, "expected a number of seconds")
    high = MAX_DURATION.total_seconds()
    if not 0 <= value <= high:
        raise TriggerArgumentError(field, value, f"must be a number from 0 to {high:.0f}")
    return value


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None``.

    PostgreSQL text holds no NUL; a lone surrogate (``"\\ud800"``) is not encodable as UTF-8,
    so neither backend can store it. Refusing both everywhere keeps the backends alike.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def check_json_shape(field: str, value: object, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON-like values nested deeper than ``max_depth`` or holding unstorable text.

    Walks with an explicit stack, so a value nested thousands deep is refused instead of
    raising :class:`RecursionError` in whatever walks it next.

    :raises InvalidJobError: naming ``field``.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            reason = bad_text(item)
            if reason is not None:
                raise InvalidJobError(f"{field} {reason}", field=field)
            continue
        if not isinstance(item, list | tuple | Mapping):
            continue
        if depth > max_depth:
            raise InvalidJobError(
                f"{field} is nested more than {max_depth} levels deep", field=field
            )
        if isinstance(item, Mapping):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


def check_job_id(job_id: str) -> None:
    """Refuse ids that some route could not address or a backend could not store."""
    reason = bad_text(job_id)
    if reason is None and len(job_id) > MAX_ID_LENGTH:
        reason = f"must be at most {MAX_ID_LENGTH} characters, got {len(job_id)}"
    if reason is None and not ID_FORBIDDEN.isdisjoint(job_id):
        reason = "must not contain '/' or control characters (no REST route could reach it)"
    if reason is None and job_id in (".", ".."):
        reason = "must not be '.' or '..' (URL paths normalise them away)"
    if reason is not None:
        raise InvalidJobError(f"id {reason}", field="id")
