"""Every SQL statement of tickwork, each built by a function named for what it does.

Nothing else in the project builds SQL. Statements that run as ``executemany`` take their
values through ``bindparam`` names prefixed ``b_`` (SQLAlchemy reserves bare column names).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    DateTime,
    Delete,
    Insert,
    Integer,
    Select,
    String,
    Text,
    Update,
    and_,
    bindparam,
    column,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    table,
    type_coerce,
    update,
)

from tickwork.node import NodeState
from tickwork.run import Outcome
from tickwork.store.schema import jobs_table, nodes_table, runs_table, scheduler_table
from tickwork.store.types import UTCDateTime

SCHEDULER_ROW_ID = 1
_RUNNING = Outcome.RUNNING.value
_LOST = Outcome.LOST.value

jobs = jobs_table.c
runs = runs_table.c
nodes = nodes_table.c

# -- schema ----------------------------------------------------------------------------------


def select_schema_revision(version_table: str) -> Select[Any]:
    """The Alembic revision recorded in ``version_table`` (known to exist)."""
    return select(column("version_num")).select_from(table(version_table))


def lock_migrations() -> Select[Any]:
    """PostgreSQL: serialise concurrent first starts of several nodes until commit."""
    return select(func.pg_advisory_xact_lock(7283001))


# -- scheduler row ---------------------------------------------------------------------------


def select_scheduler_row() -> Select[Any]:
    return select(scheduler_table).where(scheduler_table.c.id == SCHEDULER_ROW_ID)


def update_global_paused(paused: bool, now: datetime) -> Update:
    return (
        update(scheduler_table)
        .where(scheduler_table.c.id == SCHEDULER_ROW_ID)
        .values(is_paused=paused, updated_at=now)
    )


def select_pause_state(node_id: str, now: ColumnElement[Any]) -> Select[Any]:
    """Global pause, this node's pause and state, and the claim's clock, in one round trip."""
    return (
        select(
            scheduler_table.c.is_paused,
            nodes.is_paused.label("node_paused"),
            nodes.state.label("node_state"),
            now.label("now"),
        )
        .select_from(scheduler_table)
        .outerjoin(nodes_table, nodes.id == node_id)
        .where(scheduler_table.c.id == SCHEDULER_ROW_ID)
    )


def hold_node_row(node_id: str) -> Select[Any]:
    """Lock a claiming node's row until its claim commits (``FOR KEY SHARE``: heartbeats
    still write it), so no reaper declares the node dead in the middle of the claim: the
    runs it inserts would belong to a dead node that nothing reaps again. The reaper
    skips locked rows, and reaps the node after the claim if it is still silent."""
    return select(nodes.id).where(nodes.id == node_id).with_for_update(read=True, key_share=True)


def select_clock(now: ColumnElement[Any]) -> Select[Any]:
    return select(now.label("now"))


# -- jobs ------------------------------------------------------------------------------------


def insert_jobs() -> Insert:
    return insert(jobs_table)


def upsert_jobs(dialect: str) -> Insert:
    """Insert jobs, replacing any with the same id (keeping its ``created_at``)."""
    from sqlalchemy.dialects import postgresql, sqlite

    statement: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(jobs_table) if dialect == "postgresql" else sqlite.insert(jobs_table)
    )
    replaced = {
        column.name: statement.excluded[column.name]
        for column in jobs_table.columns
        if column.name not in ("id", "created_at")
    }
    return statement.on_conflict_do_update(index_elements=[jobs.id], set_=replaced)


def _raw_json(column: Any) -> Any:
    """A JSON column read without decoding, so one row whose text is corrupt (SQLite
    stores JSON as text) is that row's problem, not the whole result's."""
    return type_coerce(column, Text).label(column.name)


def _undecoded(table: Any) -> list[Any]:
    """Every column of ``table``, the JSON ones (``args``, ``kwargs``) undecoded (see
    :func:`_raw_json`)."""
    return [
        _raw_json(column) if column.name in ("args", "kwargs") else column
        for column in table.columns
    ]


def _job_columns() -> list[Any]:
    """Every jobs column, JSON ones undecoded (see :func:`_raw_json`)."""
    return _undecoded(jobs_table)


def update_job_row(job_id: str, values: dict[str, Any]) -> Update:
    return update(jobs_table).where(jobs.id == job_id).values(**values)


def select_job(job_id: str, *, for_update: bool = False) -> Select[Any]:
    statement = select(*_job_columns()).where(jobs.id == job_id)
    return statement.with_for_update() if for_update else statement


def select_jobs_by_id(job_ids: Collection[str]) -> Select[Any]:
    return select(*_job_columns()).where(jobs.id.in_(job_ids))


def select_existing_job_ids(job_ids: Collection[str]) -> Select[Any]:
    return select(jobs.id).where(jobs.id.in_(job_ids))


def select_jobs_page(after: str | None, limit: int | None, order: str) -> Select[Any]:
    statement = select(*_job_columns())
    if order == "id":
        if after is not None:
            statement = statement.where(jobs.id > after)
        statement = statement.order_by(jobs.id)
    else:
        statement = statement.order_by(jobs.next_run_time.is_(None), jobs.next_run_time, jobs.id)
    return statement.limit(limit) if limit is not None else statement


def count_jobs() -> Select[Any]:
    return select(func.count()).select_from(jobs_table)


def delete_job(job_id: str) -> Delete:
    return delete(jobs_table).where(jobs.id == job_id)


def delete_jobs(job_ids: Collection[str]) -> Delete:
    return delete(jobs_table).where(jobs.id.in_(job_ids))


def delete_all_jobs() -> Delete:
    return delete(jobs_table)


# -- claims ----------------------------------------------------------------------------------


def select_due_jobs(horizon: datetime, limit: int) -> Select[Any]:
    """Jobs due by ``horizon``, earliest first, skipping rows another node holds.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLAlchemy's SQLite dialect drops the clause
    and the lock comes from ``BEGIN IMMEDIATE`` instead.
    """
    return (
        select(
            *_job_columns(),
            _last_claimed().label("last_claimed"),
        )
        .where(jobs.next_run_time <= literal(horizon, UTCDateTime))
        .order_by(jobs.next_run_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _last_claimed() -> Any:
    """The job's latest scheduled (not manual) run time: one probe of the unique
    (job, scheduled time) index per due job, read backwards."""
    return (
        select(runs.scheduled_time)
        .where(runs.job_id == jobs.id, runs.manual.is_(False))
        .order_by(runs.scheduled_time.desc())
        .limit(1)
        .correlate(jobs_table)
        .scalar_subquery()
    )


def mark_jobs_broken() -> Update:
    """Executemany form: ``b_id``, ``b_reason``, ``b_at``; the job stops being due."""
    return (
        update(jobs_table)
        .where(jobs.id == bindparam("b_id"))
        .values(
            broken_reason=bindparam("b_reason"),
            broken_at=bindparam("b_at", type_=UTCDateTime),
            next_run_time=None,
        )
    )


def count_broken_jobs() -> Select[Any]:
    return select(func.count()).select_from(jobs_table).where(jobs.broken_reason.is_not(None))


def count_running_runs(job_ids: Collection[str]) -> Select[Any]:
    return (
        select(runs.job_id, func.count())
        .where(runs.outcome == _RUNNING, runs.job_id.in_(job_ids))
        .group_by(runs.job_id)
    )


def update_next_run_times() -> Update:
    """Executemany form: ``b_id``, ``b_next_run_time``."""
    return (
        update(jobs_table)
        .where(jobs.id == bindparam("b_id"))
        .values(next_run_time=bindparam("b_next_run_time", type_=UTCDateTime))
    )


def select_earliest_next_run_time() -> Select[Any]:
    return select(func.min(jobs.next_run_time))


def insert_runs() -> Insert:
    return insert(runs_table)


def insert_claimed_runs(dialect: str) -> Insert:
    """Insert a claim's runs; a (job, scheduled time) that has a row already is left out
    instead of failing the whole claim, and the rows inserted are returned."""
    from sqlalchemy.dialects import postgresql, sqlite

    statement: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(runs_table) if dialect == "postgresql" else sqlite.insert(runs_table)
    )
    return statement.on_conflict_do_nothing(
        index_elements=[runs.job_id, runs.scheduled_time]
    ).returning(runs.job_id, runs.scheduled_time)


def _reportable(reported: ColumnElement[Any]) -> ColumnElement[bool]:
    """Outcomes a finished run's report may replace: a node declared dead that was only
    cut off (a database outage, a long pause) reports what really happened when back.
    A ``lost`` report (a fenced node dropping a fire) never replaces a final outcome, so
    the reaper's record stays. (No IN list: an expanding parameter cannot be used with
    ``executemany``.)"""
    return or_(runs.outcome == _RUNNING, and_(runs.outcome == _LOST, reported != _LOST))


def finish_runs() -> Update:
    """Executemany form, keyed by the unique (``b_job_id``, ``b_scheduled_time``)."""
    return (
        update(runs_table)
        .where(
            runs.job_id == bindparam("b_job_id"),
            runs.scheduled_time == bindparam("b_scheduled_time", type_=UTCDateTime),
            _reportable(bindparam("b_outcome")),
        )
        .values(
            outcome=bindparam("b_outcome"),
            # an outcome that does not know when its run started keeps the start mark
            started_at=func.coalesce(bindparam("b_started_at", type_=UTCDateTime), runs.started_at),
            finished_at=bindparam("b_finished_at", type_=UTCDateTime),
            result=bindparam("b_result"),
            error=bindparam("b_error"),
            traceback=bindparam("b_traceback"),
        )
    )


def mark_runs_started() -> Update:
    """Executemany form, keyed by ``b_job_id``, ``b_scheduled_time``; sets ``b_started_at``."""
    return (
        update(runs_table)
        .where(
            runs.job_id == bindparam("b_job_id"),
            runs.scheduled_time == bindparam("b_scheduled_time", type_=UTCDateTime),
            runs.outcome == _RUNNING,
            runs.started_at.is_(None),
        )
        .values(started_at=bindparam("b_started_at", type_=UTCDateTime))
    )


# -- nodes -----------------------------------------------------------------------------------


def insert_node() -> Insert:
    return insert(nodes_table)


def update_node(node_id: str, values: dict[str, Any]) -> Update:
    return update(nodes_table).where(nodes.id == node_id).values(**values)


def touch_node(node_id: str, now: datetime) -> Update:
    """Heartbeat; a node already declared dead stays dead."""
    return (
        update(nodes_table)
        .where(nodes.id == node_id, nodes.state == NodeState.RUNNING.value)
        .values(heartbeat_at=now)
        .returning(nodes.is_paused)
    )


def select_node(node_id: str) -> Select[Any]:
    return select(nodes_table).where(nodes.id == node_id)


def select_nodes(include_stopped: bool) -> Select[Any]:
    statement = select(nodes_table).order_by(nodes.started_at, nodes.id)
    return statement if include_stopped else statement.where(nodes.state == NodeState.RUNNING.value)


def select_silent_nodes(deadline: datetime) -> Select[Any]:
    return (
        select(nodes.id)
        .where(nodes.state == NodeState.RUNNING.value, nodes.heartbeat_at < deadline)
        .with_for_update(skip_locked=True)
    )


def mark_nodes_dead(node_ids: Collection[str], now: datetime) -> Update:
    return (
        update(nodes_table)
        .where(nodes.id.in_(node_ids))
        .values(state=NodeState.DEAD.value, stopped_at=now)
    )


def request_cancel(job_id: str, scheduled_time: datetime, now: datetime) -> Update:
    return (
        update(runs_table)
        .where(
            runs.job_id == job_id,
            runs.scheduled_time == literal(scheduled_time, UTCDateTime),
            runs.outcome == _RUNNING,
        )
        .values(cancel_requested_at=now)
    )


def select_cancel_requests(node_id: str) -> Select[Any]:
    """The node's running runs asked to cancel (a probe of the partial index on running
    runs, so cheap enough for every heartbeat)."""
    return select(runs.job_id, runs.scheduled_time).where(
        runs.outcome == _RUNNING,
        runs.node_id == node_id,
        runs.cancel_requested_at.is_not(None),
    )


def select_unfinished_runs_of(node_ids: Collection[str]) -> Select[Any]:
    return (
        select(runs.job_id, runs.scheduled_time, runs.node_id, jobs.rerun_lost)
        .select_from(runs_table)
        .outerjoin(jobs_table, jobs.id == runs.job_id)
        .where(runs.outcome == _RUNNING, runs.node_id.in_(node_ids))
    )


def mark_runs_lost(node_ids: Collection[str], now: datetime, reason: str) -> Update:
    return (
        update(runs_table)
        .where(runs.outcome == _RUNNING, runs.node_id.in_(node_ids))
        .values(outcome=_LOST, finished_at=now, error=reason)
    )


def mark_run_lost(node_id: str, reason: str) -> Update:
    """Executemany form, keyed by ``b_job_id``, ``b_scheduled_time``; sets ``b_finished_at``."""
    return (
        update(runs_table)
        .where(
            runs.node_id == node_id,
            runs.job_id == bindparam("b_job_id"),
            runs.scheduled_time == bindparam("b_scheduled_time", type_=UTCDateTime),
            runs.outcome == _RUNNING,
        )
        .values(
            outcome=_LOST, finished_at=bindparam("b_finished_at", type_=UTCDateTime), error=reason
        )
    )


def select_rerun_lost(job_ids: Collection[str]) -> Select[Any]:
    return select(jobs.id, jobs.rerun_lost).where(jobs.id.in_(job_ids))


def pull_next_run_time_forward(job_ids: Collection[str], moment: datetime) -> Update:
    """Make jobs due at ``moment`` unless paused or due earlier already (lost-run reruns)."""
    return (
        update(jobs_table)
        .where(
            jobs.id.in_(job_ids),
            jobs.next_run_time.is_not(None),
            jobs.next_run_time > literal(moment, UTCDateTime),
        )
        .values(next_run_time=moment)
    )


def select_waiting_one_shot_jobs(job_ids: Collection[str]) -> Select[Any]:
    """Jobs kept after their trigger ran out because a lost run may have to run again."""
    return select(jobs.id, jobs.trigger).where(
        jobs.id.in_(job_ids), jobs.rerun_lost.is_(True), jobs.next_run_time.is_(None)
    )


def schedule_jobs_at(job_ids: Collection[str], moment: datetime) -> Update:
    """Schedule jobs at ``moment``; a scheduled job keeps no pause note (see ``Job.evolve``)."""
    return (
        update(jobs_table)
        .where(jobs.id.in_(job_ids))
        .values(
            next_run_time=literal(moment, UTCDateTime),
            paused_note=None,
            paused_by=None,
            paused_at=None,
        )
    )


# -- history ---------------------------------------------------------------------------------


def select_run(job_id: str, scheduled_time: datetime) -> Select[Any]:
    return select(runs_table).where(
        runs.job_id == job_id, runs.scheduled_time == literal(scheduled_time, UTCDateTime)
    )


def select_runs(
    job_id: str | None,
    outcome: str | None,
    node_id: str | None,
    before: int | None,
    limit: int,
) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if job_id is not None:
        conditions.append(runs.job_id == job_id)
    if outcome is not None:
        conditions.append(runs.outcome == outcome)
    if node_id is not None:
        conditions.append(runs.node_id == node_id)
    if before is not None:
        conditions.append(runs.id < before)
    statement = select(*_undecoded(runs_table)).where(*conditions)
    return statement.order_by(runs.id.desc()).limit(limit)


def delete_runs_before(older_than: datetime) -> Delete:
    return delete(runs_table).where(
        runs.claimed_at < literal(older_than, UTCDateTime), runs.outcome != _RUNNING
    )


# -- notifications ---------------------------------------------------------------------------


def notify(channel: str) -> Select[Any]:
    """PostgreSQL: wake every listening node when the transaction commits."""
    return select(func.pg_notify(channel, ""))


# -- PostgreSQL bulk forms -------------------------------------------------------------------
# ``executemany`` sends one statement per row; these send one statement per batch, with a
# column of values per array parameter, which PostgreSQL expands with ``unnest``.

_RUN_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("job_id", String),
    ("scheduled_time", DateTime(timezone=True)),
    ("node_id", String),
    ("outcome", String),
    ("manual", Boolean),
    ("claimed_at", DateTime(timezone=True)),
    ("started_at", DateTime(timezone=True)),
    ("finished_at", DateTime(timezone=True)),
    ("result", Text),
    ("error", Text),
    ("traceback", Text),
    ("coalesced", Integer),
)
_FINISH_COLUMNS: tuple[str, ...] = ("job_id", "scheduled_time", "outcome", "started_at")
_FINISH_COLUMNS += ("finished_at", "result", "error", "traceback")


def _unnest(columns: tuple[tuple[str, Any], ...], alias: str) -> Any:
    arrays = [bindparam(f"b_{name}", type_=ARRAY(column_type)) for name, column_type in columns]
    table = func.unnest(*arrays).table_valued(*(name for name, _ in columns))
    return table.render_derived(name=alias)


def insert_claimed_runs_from_arrays() -> Insert:
    """:func:`insert_claimed_runs` binding one list per column of ``tickwork_runs``
    (``b_`` + the column name)."""
    from sqlalchemy.dialects import postgresql

    rows = _unnest(_RUN_COLUMNS, "new_runs")
    names = [name for name, _ in _RUN_COLUMNS]
    statement = postgresql.insert(runs_table).from_select(
        names, select(*(rows.c[name] for name in names))
    )
    return statement.on_conflict_do_nothing(
        index_elements=[runs.job_id, runs.scheduled_time]
    ).returning(runs.job_id, runs.scheduled_time)


def update_next_run_times_from_arrays() -> Update:
    """Bind ``b_id`` and ``b_next_run_time`` lists."""
    rows = _unnest((("id", String), ("next_run_time", DateTime(timezone=True))), "due")
    return update(jobs_table).where(jobs.id == rows.c.id).values(next_run_time=rows.c.next_run_time)


def finish_runs_from_arrays() -> Update:
    """Bind one list per :data:`_FINISH_COLUMNS` entry (``b_`` + its name)."""
    types = dict(_RUN_COLUMNS)
    rows = _unnest(tuple((name, types[name]) for name in _FINISH_COLUMNS), "ended")
    return (
        update(runs_table)
        .where(
            runs.job_id == rows.c.job_id,
            runs.scheduled_time == rows.c.scheduled_time,
            _reportable(rows.c.outcome),
        )
        .values(
            {name: rows.c[name] for name in _FINISH_COLUMNS[2:]}
            | {"started_at": func.coalesce(rows.c.started_at, runs.started_at)}
        )
    )
