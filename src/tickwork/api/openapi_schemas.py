"""JSON Schemas (OpenAPI 3.1 dialect) of the REST API's bodies.

Kept apart from the paths so that tests can validate responses against these directly.
"""

from __future__ import annotations

from typing import Any

from tickwork.job import FIELDS, OPTIONS, PAUSE_NOTE, REQUESTER, Role
from tickwork.limits import LIST_ARGUMENTS_BYTES, MAX_ID_LENGTH
from tickwork.node import NodeState
from tickwork.run import Outcome

#: Every outcome a run can have, as the API spells them.
OUTCOMES = [outcome.value for outcome in Outcome]

_DATETIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_TRIGGERS = ["date", "interval", "cron", "calendarinterval", "and", "or"]
#: Every job option, as its declaration (:class:`~tickwork.job.Job`) describes it.
_OPTIONS = {spec.key: spec.value.schema() for spec in OPTIONS if spec.value is not None}
#: The state fields that declare their kind of value (who paused the job, and why).
_STATE = {
    spec.key: spec.value.schema()
    for spec in FIELDS
    if spec.role is Role.STATE and spec.value is not None
}
#: What :func:`tickwork.limits.check_job_id` accepts: no "/" nor control characters.
_JOB_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_ID_LENGTH,
    "pattern": "^[^/\\x00-\\x1f\\x7f]+$",
    "not": {"enum": [".", ".."]},
}
#: Job JSON may also show a stored trigger this version cannot read (a broken job).
_SHOWN_TRIGGERS = [*_TRIGGERS, "unreadable"]
_TRIGGER_INPUT = {
    "oneOf": [
        {"type": "string", "enum": _TRIGGERS},
        {"type": "object", "properties": {"type": {"enum": _TRIGGERS}}},
    ]
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error_message"],
        "properties": {
            "error_message": {"type": "string"},
            "field": {"type": "string", "description": "The offending field or parameter."},
        },
    },
    "Job": {
        "type": "object",
        "description": (
            "Flask-APScheduler 1.13's job JSON: trigger fields are flattened into the job "
            "(e.g. `hours`, `minutes` of an interval; cron fields as strings); zero units "
            "and unset dates are left out."
        ),
        "required": [
            "id",
            "name",
            "func",
            "args",
            "kwargs",
            "trigger",
            "misfire_grace_time",
            "max_instances",
            "next_run_time",
        ],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "func": {"type": "string", "description": "`module:qualname` or a task name."},
            "args": {"type": "array"},
            "kwargs": {"type": "object"},
            "trigger": {"type": "string", "enum": _SHOWN_TRIGGERS},
            **_OPTIONS,
            "next_run_time": {
                **_NULLABLE_DATETIME,
                "description": "null while paused or broken",
            },
            "broken_reason": {
                "type": ["string", "null"],
                "description": (
                    "Why the engine stopped scheduling the job (its stored row could not be "
                    "read, or its trigger failed); null when healthy. Any edit clears it."
                ),
            },
            "broken_at": _NULLABLE_DATETIME,
            **_STATE,
            "timezone": {"type": "string"},
            "start_date": _DATETIME,
            "end_date": _DATETIME,
            "run_date": _DATETIME,
            "args_truncated": {
                "type": "boolean",
                "const": True,
                "description": (
                    f"Only in job lists: args and kwargs together exceed "
                    f"{LIST_ARGUMENTS_BYTES} bytes, so they are sent empty; "
                    "GET the job for them."
                ),
            },
        },
        "additionalProperties": True,
    },
    "JobInput": {
        "type": "object",
        "description": (
            "A new job. `func` must be a registered task or match the allow-list. Any key "
            "not listed is a field of the trigger (`seconds`, `hour`, `run_date`, ...); "
            "`trigger` may also be an object with a `type` and those fields."
        ),
        "required": ["id", "func"],
        "properties": {
            "id": _JOB_ID,
            "func": {"type": "string", "minLength": 1},
            "trigger": _TRIGGER_INPUT,
            "args": {"type": ["array", "null"]},
            "kwargs": {"type": ["object", "null"]},
            **_OPTIONS,
            "name": {"type": ["string", "null"], "description": "Defaults to the id."},
            "next_run_time": _NULLABLE_DATETIME,
            "replace_existing": {"type": "boolean"},
            "jobstore": {"type": ["string", "null"], "enum": ["default", None]},
        },
        "additionalProperties": True,
    },
    "JobPatch": {
        "type": "object",
        "description": (
            "Fields to change. With `trigger` the job gets that new trigger; trigger "
            "fields alone are merged into the current trigger. Either way it is "
            "rescheduled from now."
        ),
        "properties": {
            "func": {"type": "string", "minLength": 1},
            "trigger": _TRIGGER_INPUT,
            "args": {"type": ["array", "null"]},
            "kwargs": {"type": ["object", "null"]},
            **_OPTIONS,
            "next_run_time": _NULLABLE_DATETIME,
        },
        "additionalProperties": True,
    },
    "RunRequest": {
        "type": "object",
        "description": (
            "Arguments of this run's own, instead of the job's (each null or left out: the "
            "job's). Only for jobs whose func the client could schedule itself."
        ),
        "properties": {
            "args": {"type": ["array", "null"]},
            "kwargs": {"type": ["object", "null"]},
        },
        "additionalProperties": False,
    },
    "PauseRequest": {
        "type": "object",
        "properties": {
            "note": {
                **PAUSE_NOTE.schema(),
                "description": "Why the job is paused; kept until it is resumed.",
            }
        },
        "additionalProperties": False,
    },
    "Scheduler": {
        "type": "object",
        "required": ["current_host", "allowed_hosts", "running", "is_paused"],
        "properties": {
            "current_host": {"type": "string"},
            "allowed_hosts": {"type": "array", "items": {"type": "string"}},
            "running": {"type": "boolean", "description": "Whether this node is running."},
            "is_paused": {
                "type": "boolean",
                "description": "The cluster-wide pause; nodes keep their own pause state.",
            },
            "updated_at": _DATETIME,
            "node_id": {"type": "string"},
            "state": {"type": "string", "enum": ["stopped", "running", "paused"]},
            "healthy": {
                "type": "boolean",
                "description": "False once an internal thread of this node could not go on.",
            },
            "health_reason": {"type": ["string", "null"]},
        },
    },
    "PausePatch": {
        "type": "object",
        "properties": {"is_paused": {"type": "boolean"}},
        "additionalProperties": False,
        "minProperties": 1,
    },
    "Shutdown": {
        "type": "object",
        "properties": {"wait": {"type": "boolean", "default": True}},
        "additionalProperties": False,
    },
    "Node": {
        "type": "object",
        "required": ["id", "host", "pid", "version", "state", "is_paused", "started_at"],
        "properties": {
            "id": {"type": "string"},
            "host": {"type": "string"},
            "pid": {"type": "integer"},
            "version": {"type": "string"},
            "state": {"type": "string", "enum": [state.value for state in NodeState]},
            "is_paused": {"type": "boolean"},
            "started_at": _DATETIME,
            "heartbeat_at": _DATETIME,
            "stopped_at": _NULLABLE_DATETIME,
        },
    },
    "Run": {
        "type": "object",
        "required": ["id", "job_id", "scheduled_time", "outcome", "manual"],
        "properties": {
            "id": {"type": "integer"},
            "job_id": {"type": "string"},
            "scheduled_time": _DATETIME,
            "node_id": {"type": ["string", "null"]},
            "outcome": {
                "type": "string",
                "enum": OUTCOMES,
            },
            "manual": {"type": "boolean"},
            "claimed_at": _NULLABLE_DATETIME,
            "started_at": _NULLABLE_DATETIME,
            "finished_at": _NULLABLE_DATETIME,
            "duration": {"type": ["number", "null"]},
            "result": {"type": ["string", "null"]},
            "error": {"type": ["string", "null"]},
            "traceback": {"type": ["string", "null"]},
            "coalesced": {
                "type": "integer",
                "minimum": 0,
                "description": "How many earlier overdue fire times this run stands for.",
            },
            "args": {
                "type": ["array", "null"],
                "description": "A run-now's own arguments; null: the job's.",
            },
            "kwargs": {
                "type": ["object", "null"],
                "description": "A run-now's own keyword arguments; null: the job's.",
            },
            "requested_by": {
                **REQUESTER.schema(),
                "description": "Who asked for this run-now (user or token name), when known.",
            },
            "args_truncated": {
                "type": "boolean",
                "const": True,
                "description": (
                    f"The run's own args and kwargs together exceed {LIST_ARGUMENTS_BYTES} "
                    "bytes, so they are sent as null."
                ),
            },
        },
    },
}
