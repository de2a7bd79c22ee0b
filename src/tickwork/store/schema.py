"""The tables, in one place. Alembic migrations must produce exactly this schema."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from tickwork.limits import MAX_ID_LENGTH
from tickwork.run import Outcome
from tickwork.store.types import UTCDateTime

metadata = MetaData()

#: The condition of the partial index on unfinished runs.
_UNFINISHED = f"outcome = '{Outcome.RUNNING.value}'"

_json = JSON().with_variant(JSONB(), "postgresql")
_run_id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid must be INTEGER

#: One row (id = 1) holding the scheduler's global state.
scheduler_table = Table(
    "tickwork_scheduler",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("is_paused", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: One row per scheduler process that ever started; ``state`` says if it still runs.
nodes_table = Table(
    "tickwork_nodes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("is_paused", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),
)

#: Jobs; ``next_run_time`` is NULL while paused. ``trigger`` is canonical JSON text so the
#: engine can cache decoded triggers by their text. ``broken_reason`` is set (with
#: ``broken_at``, and ``next_run_time`` NULL) when a claim could not decode or plan the row.
#: ``paused_note``/``paused_by``/``paused_at`` say why, by whom and when it was paused.
jobs_table = Table(
    "tickwork_jobs",
    metadata,
    Column("id", String(MAX_ID_LENGTH), primary_key=True),
    Column("name", Text, nullable=False),
    Column("func", Text, nullable=False),
    Column("args", _json, nullable=False),
    Column("kwargs", _json, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("executor", String(64), nullable=False),
    Column("misfire_grace_time", Float, nullable=True),
    Column("coalesce", Boolean, nullable=False),
    Column("max_instances", Integer, nullable=False),
    Column("rerun_lost", Boolean, nullable=False),
    Column("timeout", Float, nullable=True),
    Column("next_run_time", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("broken_reason", Text, nullable=True),
    Column("broken_at", UTCDateTime, nullable=True),
    Column("paused_note", Text, nullable=True),
    Column("paused_by", Text, nullable=True),
    Column("paused_at", UTCDateTime, nullable=True),
    Index("ix_tickwork_jobs_next_run_time", "next_run_time"),
)

#: Every fire: claimed as ``running``, then ``succeeded``/``failed``/``missed``/``lost``.
#: ``coalesced`` counts the earlier overdue fire times this run stands for.
runs_table = Table(
    "tickwork_runs",
    metadata,
    Column("id", _run_id, primary_key=True, autoincrement=True),
    Column("job_id", String(MAX_ID_LENGTH), nullable=False),
    Column("scheduled_time", UTCDateTime, nullable=False),
    Column("node_id", String(64), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("manual", Boolean, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("traceback", Text, nullable=True),
    Column("coalesced", Integer, nullable=False, server_default=text("0")),
    #: Set on a running run to ask its node to cancel it (see ``Store.request_cancel``).
    Column("cancel_requested_at", UTCDateTime, nullable=True),
    #: A run-now's own arguments (NULL: the job's) and who asked for it (NULL: unknown).
    Column("args", _json, nullable=True),
    Column("kwargs", _json, nullable=True),
    Column("requested_by", Text, nullable=True),
    UniqueConstraint("job_id", "scheduled_time", name="uq_tickwork_runs_job_scheduled"),
    Index("ix_tickwork_runs_job_id_id", "job_id", "id"),
    Index("ix_tickwork_runs_claimed_at", "claimed_at"),
    Index(
        "ix_tickwork_runs_running",
        "node_id",
        "job_id",
        postgresql_where=text(_UNFINISHED),
        sqlite_where=text(_UNFINISHED),
    ),
)
