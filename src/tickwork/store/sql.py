"""The store on SQLAlchemy Core, shared by SQLite and PostgreSQL.

Subclasses supply only what truly differs: how a write transaction takes its lock, which
clock judges due-ness, and how other processes are told about changes.
"""

from __future__ import annotations

import functools
import json
import logging
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Row, literal
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from tickwork.clock import Clock, SystemClock
from tickwork.exceptions import (
    ConflictError,
    DatabaseUnavailableError,
    JobLookupError,
    MaxInstancesReachedError,
    NodeLookupError,
    SchemaMismatchError,
    StoreError,
    TickworkError,
)
from tickwork.job import Job, job_kwargs, job_values
from tickwork.node import Node, NodeState, PauseState, SchedulerState
from tickwork.run import Outcome, Run, RunRequest, RunResult, RunStart
from tickwork.store import queries as q
from tickwork.store.base import ClaimPlan, ClaimResult, DueJob, Fire, LostRun, Planner, Store
from tickwork.store.migrate import HEAD_REVISION, schema_problem, upgrade
from tickwork.store.retry import CommitInDoubtError, retry_once
from tickwork.store.types import UTCDateTime
from tickwork.store.unreadable import UnreadableTrigger
from tickwork.triggers import Trigger, trigger_from_dict

logger = logging.getLogger(__name__)

_Method = TypeVar("_Method", bound=Callable[..., Any])

#: Rows per statement when inserting jobs in bulk (below SQLite's variable limit).
_INSERT_CHUNK = 2000
#: Longest broken-job reason kept.
_REASON_CHARS = 1000


def _retrying(method: _Method, *, idempotent: bool) -> _Method:
    @functools.wraps(method)
    def retrying(self: SQLStore, *args: Any, **kwargs: Any) -> Any:
        return retry_once(
            method.__name__,
            lambda _in_doubt: method(self, *args, **kwargs),
            idempotent=idempotent,
        )

    return retrying  # type: ignore[return-value]


def retry_on_disconnect(method: _Method) -> _Method:
    """Retry an idempotent store method once when its connection turned out to be dead
    (see :func:`~tickwork.store.retry.retry_once`)."""
    return _retrying(method, idempotent=True)


def retry_unless_in_doubt(method: _Method) -> _Method:
    """:func:`retry_on_disconnect` for a method that must not run twice: not retried when
    its commit was in doubt."""
    return _retrying(method, idempotent=False)


@lru_cache(maxsize=8192)
def decode_trigger(text: str) -> Trigger:
    """Triggers are immutable values, so decoded ones are shared by their JSON text."""
    return trigger_from_dict(json.loads(text))


def read_trigger(text: str) -> Trigger:
    """:func:`decode_trigger`, or an :class:`UnreadableTrigger` saying why it failed, so
    one bad row never stops a listing."""
    try:
        return decode_trigger(text)
    except Exception as exc:  # any failure of one row's data is that row's
        return UnreadableTrigger(text, _describe(exc))


def encode_trigger(trigger: Trigger) -> str:
    if isinstance(trigger, UnreadableTrigger):
        return trigger.text  # written back as stored, so other edits lose nothing
    return json.dumps(trigger.to_dict(), sort_keys=True, separators=(",", ":"))


def _fires_after(trigger_text: str, moment: datetime) -> bool:
    """Whether the stored trigger has a fire time after ``moment``; a trigger that cannot
    tell is assumed to have one, so its job is kept (and shown broken) rather than lost."""
    try:
        return decode_trigger(trigger_text).next_fire_time(moment, moment) is not None
    except Exception:  # one job's bad data must not fail the batch it is in
        return True


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_REASON_CHARS]


class SQLStore(Store):
    """A :class:`Store` on a SQLAlchemy engine."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._local_clock: Clock = clock or SystemClock()

    # -- dialect hooks -----------------------------------------------------------------------

    def _database_clock(self) -> ColumnElement[Any] | None:
        """A SQL expression for the database's own clock, or None to use the local clock."""
        return None

    def _notify(self, conn: Connection) -> None:
        """Tell other processes, at commit, that jobs or pause state changed."""

    @abstractmethod
    def _begin_write(self, conn: Connection) -> None:
        """Start a transaction that may write and must not deadlock with other writers."""

    def _begin_read(self, conn: Connection) -> None:
        """Start a transaction that only reads."""
        conn.begin()

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                if write:
                    self._begin_write(conn)
                else:
                    self._begin_read(conn)
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                try:
                    conn.commit()
                except DBAPIError as exc:
                    if exc.connection_invalidated:
                        raise CommitInDoubtError(
                            f"the connection was lost while committing; the change may or "
                            f"may not have been applied: {exc}"
                        ) from exc
                    raise
        except TickworkError:
            raise
        except DBAPIError as exc:
            if schema_problem(exc):
                raise SchemaMismatchError(
                    f"the database's tables do not match this tickwork (schema {HEAD_REVISION})"
                    f": {exc.orig}; run `tickwork db upgrade`, and check that nothing else "
                    "changed the tables"
                ) from exc
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise DatabaseUnavailableError(f"database unavailable: {exc}") from exc
            raise StoreError(f"database error: {exc}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc

    def _now_expression(self, now: datetime | None = None) -> ColumnElement[Any]:
        if now is None and self._clock is None:
            database_clock = self._database_clock()
            if database_clock is not None:
                return database_clock
        return literal(now or self._local_clock.now(), UTCDateTime)

    def _current_time(self, conn: Connection) -> datetime:
        if self._clock is None and self._database_clock() is not None:
            moment: datetime = conn.execute(q.select_clock(self._now_expression())).scalar_one()
            return moment
        return self._local_clock.now()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, create: bool = True) -> None:
        try:
            upgrade(self._engine, create=create)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate the database: {exc}") from exc

    def close(self) -> None:
        self._engine.dispose()

    def now(self) -> datetime:
        if self._clock is None and self._database_clock() is not None:
            with self._transaction(write=False) as conn:
                return self._current_time(conn)
        return self._local_clock.now()

    # -- scheduler row -----------------------------------------------------------------------

    @retry_on_disconnect
    def get_scheduler_state(self) -> SchedulerState:
        with self._transaction(write=False) as conn:
            row = conn.execute(q.select_scheduler_row()).one_or_none()
        if row is None:
            raise StoreError("the scheduler row is missing; run 'tickwork db upgrade'")
        return SchedulerState(is_paused=row.is_paused, updated_at=row.updated_at)

    @retry_on_disconnect
    def set_global_paused(self, paused: bool) -> SchedulerState:
        with self._transaction() as conn:
            now = self._current_time(conn)
            if conn.execute(q.update_global_paused(paused, now)).rowcount != 1:
                raise StoreError("the scheduler row is missing; run 'tickwork db upgrade'")
            self._notify(conn)
        return SchedulerState(is_paused=paused, updated_at=now)

    # -- jobs --------------------------------------------------------------------------------

    def add_jobs(self, jobs: Sequence[Job], *, replace_existing: bool = False) -> None:
        if not jobs:
            return
        ids = [job.id for job in jobs]
        if len(set(ids)) != len(ids):
            raise ConflictError(next(job_id for job_id in ids if ids.count(job_id) > 1))
        now = self._local_clock.now()
        encoded: dict[int, str] = {}  # jobs of a bulk add often share one trigger object
        rows = [_job_to_row(job, now, encoded) for job in jobs]
        statement = q.upsert_jobs(self.dialect) if replace_existing else q.insert_jobs()

        def attempt(in_doubt: bool) -> None:
            try:
                with self._transaction() as conn:
                    for start in range(0, len(rows), _INSERT_CHUNK):
                        conn.execute(statement, rows[start : start + _INSERT_CHUNK])
                    self._notify(conn)
            except StoreError as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
                if in_doubt and self._stored_already(rows):
                    return  # the first attempt committed before its connection dropped
                taken = self._existing_job_ids(ids)
                raise ConflictError(min(taken) if taken else ids[0]) from exc

        retry_once("add_jobs", attempt, idempotent=True)

    def _stored_already(self, rows: Sequence[dict[str, Any]]) -> bool:
        """Whether every row is stored exactly as given (``created_at`` included, to the
        microsecond): then they are this call's own, not another writer's."""
        ids = [row["id"] for row in rows]
        stored: dict[str, Row[Any]] = {}
        with self._transaction(write=False) as conn:
            for start in range(0, len(ids), _INSERT_CHUNK):
                chunk = ids[start : start + _INSERT_CHUNK]
                stored.update((row.id, row) for row in conn.execute(q.select_jobs_by_id(chunk)))
        return all(
            row["id"] in stored and _same_row(row, stored[row["id"]]._mapping) for row in rows
        )

    def _existing_job_ids(self, job_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._transaction(write=False) as conn:
            for start in range(0, len(job_ids), _INSERT_CHUNK):
                chunk = job_ids[start : start + _INSERT_CHUNK]
                found.update(conn.execute(q.select_existing_job_ids(chunk)).scalars())
        return found

    @retry_on_disconnect
    def get_job(self, job_id: str) -> Job:
        with self._transaction(write=False) as conn:
            row = conn.execute(q.select_job(job_id)).one_or_none()
        if row is None:
            raise JobLookupError(job_id)
        return _row_to_job(row)

    @retry_on_disconnect
    def get_jobs(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: str = "next_run_time",
    ) -> list[Job]:
        if order not in ("next_run_time", "id"):
            raise ValueError(f"order must be 'next_run_time' or 'id', got {order!r}")
        with self._transaction(write=False) as conn:
            rows = conn.execute(q.select_jobs_page(after, limit, order)).all()
        return [_row_to_job(row) for row in rows]

    @retry_on_disconnect
    def count_jobs(self) -> int:
        with self._transaction(write=False) as conn:
            count: int = conn.execute(q.count_jobs()).scalar_one()
        return count

    @retry_on_disconnect
    def count_broken_jobs(self) -> int:
        with self._transaction(write=False) as conn:
            count: int = conn.execute(q.count_broken_jobs()).scalar_one()
        return count

    @retry_on_disconnect
    def update_job(self, job_id: str, change: Callable[[Job], Job]) -> Job:
        with self._transaction() as conn:
            row = conn.execute(q.select_job(job_id, for_update=True)).one_or_none()
            if row is None:
                raise JobLookupError(job_id)
            values = _job_to_row(change(_row_to_job(row)), self._local_clock.now())
            del values["id"], values["created_at"]
            conn.execute(q.update_job_row(job_id, values))
            self._notify(conn)
            stored = conn.execute(q.select_job(job_id)).one()
        return _row_to_job(stored)

    def remove_job(self, job_id: str) -> None:
        def attempt(in_doubt: bool) -> None:
            with self._transaction() as conn:
                if conn.execute(q.delete_job(job_id)).rowcount == 0 and not in_doubt:
                    raise JobLookupError(job_id)  # (in doubt: the first attempt removed it)

        retry_once("remove_job", attempt, idempotent=True)

    @retry_unless_in_doubt  # its count would be wrong
    def remove_all_jobs(self) -> int:
        with self._transaction() as conn:
            count: int = conn.execute(q.delete_all_jobs()).rowcount
        return count

    # -- engine ------------------------------------------------------------------------------

    @retry_unless_in_doubt  # a claim in doubt is recovered as orphans
    def claim_due(
        self,
        node_id: str,
        planner: Planner,
        *,
        limit: int,
        now: datetime | None = None,
        look_ahead: float = 0.0,
    ) -> ClaimResult:
        with self._transaction() as conn:
            conn.execute(q.hold_node_row(node_id))
            state = conn.execute(q.select_pause_state(node_id, self._now_expression(now))).one()
            pause = PauseState(
                global_paused=state.is_paused,
                node_paused=bool(state.node_paused) or state.node_state != NodeState.RUNNING,
            )
            if state.node_state != NodeState.RUNNING:
                return ClaimResult(ClaimPlan(), pause, batch_full=False, node_alive=False)
            if pause.paused:
                return ClaimResult(ClaimPlan(), pause, batch_full=False)
            claim_time: datetime = state.now
            horizon = claim_time + timedelta(seconds=look_ahead)
            rows = conn.execute(q.select_due_jobs(horizon, limit)).all()
            plan = ClaimPlan()
            if rows:
                counts = conn.execute(q.count_running_runs([row.id for row in rows]))
                running: dict[str, int] = {job_id: count for job_id, count in counts}
                due, unreadable = _decode_due_jobs(rows, running)
                plan = planner(due, claim_time, horizon)
                plan.broken.update(unreadable)
                self._apply_plan(conn, plan, node_id, claim_time)
            if len(rows) == limit:
                return ClaimResult(plan, pause, batch_full=True)
            earliest = conn.execute(q.select_earliest_next_run_time()).scalar()
        next_due_in = None if earliest is None else (earliest - claim_time).total_seconds()
        return ClaimResult(plan, pause, batch_full=False, next_due_in=next_due_in)

    def _apply_plan(
        self,
        conn: Connection,
        plan: ClaimPlan,
        node_id: str,
        now: datetime,
    ) -> None:
        if plan.broken:
            self._mark_broken(conn, plan.broken, now)
        advanced = [
            {"b_id": job_id, "b_next_run_time": moment}
            for job_id, moment in plan.next_run_times.items()
            if moment is not None and job_id not in plan.broken
        ]
        if advanced:
            self._set_next_run_times(conn, advanced)
        removed = set(plan.removed)
        keep = [
            job_id
            for job_id, moment in plan.next_run_times.items()
            if moment is None and job_id not in removed
        ]
        if keep:  # one-shot jobs whose run may have to run again if lost
            conn.execute(
                q.update_next_run_times(), [{"b_id": i, "b_next_run_time": None} for i in keep]
            )
        if plan.removed:
            conn.execute(q.delete_jobs(plan.removed))
        new_runs = [
            _run_row(
                fire.job_id,
                fire.scheduled_time,
                node_id,
                Outcome.RUNNING,
                now,
                coalesced=fire.coalesced,
            )
            for fire in plan.fires
        ]
        new_runs += [
            _run_row(
                skip.job_id,
                skip.scheduled_time,
                node_id,
                Outcome.MISSED,
                now,
                error=skip.detail,
                coalesced=plan.coalesced.get(skip.job_id, 0),
            )
            for skip in plan.skipped
        ]
        if not new_runs:
            return
        inserted = self._insert_runs(conn, new_runs)
        conflicting = [
            fire for fire in plan.fires if (fire.job_id, fire.scheduled_time) not in inserted
        ]
        if conflicting:
            # Such a fire was claimed before (the job's next_run_time was set back to it):
            # it is not fired twice, and its job goes on from the plan's next run time.
            logger.warning(
                "not firing %d fire(s) claimed before: %s",
                len(conflicting),
                ", ".join(f"{f.job_id}@{f.scheduled_time.isoformat()}" for f in conflicting),
            )
            plan.fires = [fire for fire in plan.fires if fire not in conflicting]

    def _mark_broken(self, conn: Connection, broken: dict[str, str], now: datetime) -> None:
        logger.error(
            "marking %d job(s) broken: %s",
            len(broken),
            "; ".join(f"{job_id}: {reason}" for job_id, reason in broken.items()),
        )
        conn.execute(
            q.mark_jobs_broken(),
            [
                {"b_id": job_id, "b_reason": reason, "b_at": now}
                for job_id, reason in broken.items()
            ],
        )

    def _set_next_run_times(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Rows of ``b_id``, ``b_next_run_time``."""
        conn.execute(q.update_next_run_times(), rows)

    def _insert_runs(
        self, conn: Connection, rows: list[dict[str, Any]]
    ) -> set[tuple[str, datetime]]:
        """Insert a claim's runs, leaving out any (job, scheduled time) that has a row
        already; return the keys inserted."""
        result = conn.execute(q.insert_claimed_runs(self.dialect), rows)
        return {(job_id, moment) for job_id, moment in result}

    def _finish_runs(self, conn: Connection, results: Sequence[RunResult]) -> None:
        rows = [
            {
                "b_job_id": result.job_id,
                "b_scheduled_time": result.scheduled_time,
                "b_outcome": result.outcome.value,
                "b_started_at": result.started_at,
                "b_finished_at": result.finished_at,
                "b_result": result.result,
                "b_error": result.error,
                "b_traceback": result.traceback,
            }
            for result in results
        ]
        conn.execute(q.finish_runs(), rows)

    @retry_on_disconnect
    def mark_runs_started(self, starts: Sequence[RunStart]) -> None:
        if not starts:
            return
        rows = [
            {
                "b_job_id": start.job_id,
                "b_scheduled_time": start.scheduled_time,
                "b_started_at": start.started_at,
            }
            for start in starts
        ]
        with self._transaction() as conn:
            conn.execute(q.mark_runs_started(), rows)

    @retry_on_disconnect
    def start_manual_run(
        self, job_id: str, node_id: str | None, request: RunRequest | None = None
    ) -> Fire:
        # The run's key (job, scheduled time) is fixed by the first attempt, so a retry
        # whose first commit was in doubt finds that run instead of starting a second.
        key: list[datetime] = []

        def attempt(in_doubt: bool) -> Fire:
            with self._transaction() as conn:
                # The job row lock (PostgreSQL; SQLite's write lock covers it) serialises
                # this with other manual runs and claims of the job, so the count stays true.
                row = conn.execute(q.select_job(job_id, for_update=True)).one_or_none()
                if row is None:
                    raise JobLookupError(job_id)
                if in_doubt and key:
                    earlier = conn.execute(q.select_run(job_id, key[0])).one_or_none()
                    if earlier is not None and earlier.manual and earlier.node_id == node_id:
                        return _manual_fire(row, key[0], request)
                counted = conn.execute(q.count_running_runs([job_id])).one_or_none()
                if counted is not None and counted[1] >= row.max_instances:
                    raise MaxInstancesReachedError(job_id, row.max_instances)
                if not key:
                    key.append(self._current_time(conn))
                run = _run_row(job_id, key[0], node_id, Outcome.RUNNING, key[0])
                run["manual"] = True
                if request is not None:
                    run.update(
                        args=None if request.args is None else list(request.args),
                        kwargs=request.kwargs,
                        requested_by=request.requested_by,
                    )
                conn.execute(q.insert_runs(), [run])
            return _manual_fire(row, key[0], request)

        return retry_once("start_manual_run", attempt, idempotent=True)

    @retry_on_disconnect
    def finish_runs(self, results: Sequence[RunResult]) -> None:
        if not results:
            return
        with self._transaction() as conn:
            self._finish_runs(conn, results)
            ended = {r.job_id: r.scheduled_time for r in results if r.outcome is not Outcome.LOST}
            done = self._exhausted_one_shot_jobs(conn, ended)
            if done:
                conn.execute(q.delete_jobs(done))

    @staticmethod
    def _exhausted_one_shot_jobs(conn: Connection, after: dict[str, datetime]) -> list[str]:
        """Kept one-shot jobs (see :meth:`reap_dead_nodes`) whose trigger has no fire time
        after the given moment: their run is over, so they can go."""
        if not after:
            return []
        rows = conn.execute(q.select_waiting_one_shot_jobs(list(after))).all()
        return [row.id for row in rows if not _fires_after(row.trigger, after[row.id])]

    # -- nodes -------------------------------------------------------------------------------

    @retry_on_disconnect
    def register_node(self, node: Node) -> None:
        with self._transaction() as conn:
            now = self._current_time(conn)
            values = {
                "host": node.host,
                "pid": node.pid,
                "version": node.version,
                "state": NodeState.RUNNING.value,
                "is_paused": node.is_paused,
                "started_at": now,
                "heartbeat_at": now,
                "stopped_at": None,
            }
            if conn.execute(q.select_node(node.id)).one_or_none() is None:
                conn.execute(q.insert_node(), [{"id": node.id, **values}])
            else:  # the same node id restarting: what it left running is lost
                conn.execute(
                    q.mark_runs_lost([node.id], now, "node restarted before the run ended")
                )
                conn.execute(q.update_node(node.id, values))

    @retry_on_disconnect
    def heartbeat(self, node_id: str) -> PauseState:
        with self._transaction() as conn:
            now = self._current_time(conn)
            node_paused = conn.execute(q.touch_node(node_id, now)).scalar_one_or_none()
            if node_paused is None:
                raise NodeLookupError(node_id)
            global_paused = conn.execute(q.select_scheduler_row()).one().is_paused
        return PauseState(global_paused=global_paused, node_paused=node_paused)

    @retry_on_disconnect
    def stop_node(self, node_id: str) -> None:
        with self._transaction() as conn:
            now = self._current_time(conn)
            conn.execute(
                q.update_node(node_id, {"state": NodeState.STOPPED.value, "stopped_at": now})
            )
            conn.execute(q.mark_runs_lost([node_id], now, "node shut down before the run ended"))

    @retry_on_disconnect
    def get_node(self, node_id: str) -> Node:
        with self._transaction(write=False) as conn:
            row = conn.execute(q.select_node(node_id)).one_or_none()
        if row is None:
            raise NodeLookupError(node_id)
        return _row_to_node(row)

    @retry_on_disconnect
    def get_nodes(self, *, include_stopped: bool = False) -> list[Node]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(q.select_nodes(include_stopped)).all()
        return [_row_to_node(row) for row in rows]

    @retry_on_disconnect
    def set_node_paused(self, node_id: str, paused: bool) -> Node:
        with self._transaction() as conn:
            if conn.execute(q.update_node(node_id, {"is_paused": paused})).rowcount != 1:
                raise NodeLookupError(node_id)
            self._notify(conn)
            row = conn.execute(q.select_node(node_id)).one()
        return _row_to_node(row)

    @retry_unless_in_doubt  # a retry would not report the lost runs
    def reap_dead_nodes(self, timeout: float) -> list[LostRun]:
        with self._transaction() as conn:
            now = self._current_time(conn)
            deadline = now - timedelta(seconds=timeout)
            dead = list(conn.execute(q.select_silent_nodes(deadline)).scalars())
            if not dead:
                return []
            lost = [
                LostRun(row.job_id, row.scheduled_time, row.node_id, bool(row.rerun_lost))
                for row in conn.execute(q.select_unfinished_runs_of(dead))
            ]
            conn.execute(q.mark_nodes_dead(dead, now))
            reason = f"node stopped heartbeating for more than {timeout:g} s"
            conn.execute(q.mark_runs_lost(dead, now, reason))
            self._schedule_reruns(conn, lost, now)
        logger.warning("declared nodes dead: %s (%d runs lost)", ", ".join(dead), len(lost))
        return lost

    @retry_on_disconnect
    def request_cancel(self, job_id: str, scheduled_time: datetime) -> bool:
        with self._transaction() as conn:
            now = self._current_time(conn)
            asked: int = conn.execute(q.request_cancel(job_id, scheduled_time, now)).rowcount
        return asked == 1

    @retry_on_disconnect
    def cancel_requests(self, node_id: str) -> list[tuple[str, datetime]]:
        with self._transaction(write=False) as conn:
            rows = conn.execute(q.select_cancel_requests(node_id)).all()
        return [(row.job_id, row.scheduled_time) for row in rows]

    @retry_on_disconnect
    def abandon_runs(
        self, node_id: str, runs: Sequence[tuple[str, datetime]], reason: str
    ) -> list[LostRun]:
        if not runs:
            return []
        with self._transaction() as conn:
            now = self._current_time(conn)
            rows = [
                {"b_job_id": job_id, "b_scheduled_time": moment, "b_finished_at": now}
                for job_id, moment in runs
            ]
            conn.execute(q.mark_run_lost(node_id, reason), rows)
            flags = conn.execute(q.select_rerun_lost({job_id for job_id, _ in runs}))
            rerun_lost: dict[str, bool] = {job_id: bool(flag) for job_id, flag in flags}
            lost = [
                LostRun(job_id, moment, node_id, bool(rerun_lost.get(job_id)))
                for job_id, moment in runs
            ]
            self._schedule_reruns(conn, lost, now)
        return lost

    def _schedule_reruns(self, conn: Connection, lost: Sequence[LostRun], now: datetime) -> None:
        """Make jobs whose lost runs must run again due now."""
        rerun = {run.job_id: run.scheduled_time for run in lost if run.rerun}
        if not rerun:
            return
        conn.execute(q.pull_next_run_time_forward(rerun, now))
        waiting = self._exhausted_one_shot_jobs(conn, rerun)
        if waiting:
            conn.execute(q.schedule_jobs_at(waiting, now))
        self._notify(conn)

    # -- history -----------------------------------------------------------------------------

    @retry_on_disconnect
    def get_runs(
        self,
        *,
        job_id: str | None = None,
        outcome: Outcome | None = None,
        node_id: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Run]:
        statement = q.select_runs(
            job_id, outcome.value if outcome else None, node_id, before, limit
        )
        with self._transaction(write=False) as conn:
            rows = conn.execute(statement).all()
        return [_row_to_run(row) for row in rows]

    @retry_unless_in_doubt  # its count would be wrong
    def prune_runs(self, older_than: datetime) -> int:
        with self._transaction() as conn:
            count: int = conn.execute(q.delete_runs_before(older_than)).rowcount
        return count


# -- row conversions -------------------------------------------------------------------------


def _job_to_row(job: Job, now: datetime, encoded: dict[int, str] | None = None) -> dict[str, Any]:
    """The row of ``job``. Writing a job clears its broken mark, unless its trigger still
    cannot be read (an edit of other fields): then it stays broken and unscheduled."""
    broken_reason = None
    if isinstance(job.trigger, UnreadableTrigger):
        broken_reason = (
            job.broken_reason or f"the stored trigger cannot be read: {job.trigger.reason}"
        )
    if encoded is None:
        trigger = encode_trigger(job.trigger)
    else:
        trigger = encoded.get(id(job.trigger)) or encoded.setdefault(
            id(job.trigger), encode_trigger(job.trigger)
        )
    return {
        **job_values(job),
        "trigger": trigger,
        "next_run_time": None if broken_reason else job.next_run_time,
        "broken_reason": broken_reason,
        "broken_at": (job.broken_at or now) if broken_reason else None,
        "created_at": now,
        "updated_at": now,
    }


def _load_json(raw: Any) -> Any:
    """A JSON column's value as selected undecoded (text; PostgreSQL's driver may have
    decoded JSONB already)."""
    return json.loads(raw) if isinstance(raw, str) else raw


def _row_to_job(row: Row[Any]) -> Job:
    """The job of a row; one whose data cannot be read comes back marked broken (with
    what could be read) rather than failing the listing it is in."""
    broken_reason = row.broken_reason
    try:
        args, kwargs = tuple(_load_json(row.args)), dict(_load_json(row.kwargs))
    except Exception as exc:  # one row's bad data is that row's
        args, kwargs = (), {}
        broken_reason = broken_reason or f"the stored job cannot be read: {_describe(exc)}"
    values = job_kwargs(row._mapping)
    values.update(
        trigger=read_trigger(row.trigger), args=args, kwargs=kwargs, broken_reason=broken_reason
    )
    return Job(**values)


def _decode_due_jobs(
    rows: Sequence[Row[Any]], running: dict[str, int]
) -> tuple[list[DueJob], dict[str, str]]:
    """Decode each locked row on its own: the ones that fail are returned with the
    reason, to be marked broken, and do not stop the others."""
    due: list[DueJob] = []
    unreadable: dict[str, str] = {}
    for row in rows:
        try:
            due.append(_row_to_due_job(row, running.get(row.id, 0)))
        except Exception as exc:  # any failure of one row's data is that row's
            unreadable[row.id] = f"the stored job cannot be read: {_describe(exc)}"
    return due, unreadable


def _row_to_due_job(row: Row[Any], running: int) -> DueJob:
    """The due job of a locked row; raises when its data cannot be decoded."""
    values = job_kwargs(row._mapping)
    values.update(
        trigger=decode_trigger(row.trigger),
        args=tuple(_load_json(row.args)),
        kwargs=_load_json(row.kwargs),
    )
    return DueJob(**values, running=running, last_claimed=row.last_claimed)


def _same_row(ours: dict[str, Any], stored: Any) -> bool:
    """Whether a stored jobs row holds the values of ``ours`` (JSON compared decoded)."""
    for name, value in ours.items():
        expected, found = value, stored[name]
        if name in ("args", "kwargs"):
            expected, found = json.loads(json.dumps(value)), _load_json(found)
        if found != expected:
            return False
    return True


def _manual_fire(row: Row[Any], scheduled_time: datetime, request: RunRequest | None) -> Fire:
    """The fire of a run-now: the job's call, with the request's own arguments if any."""
    args = _load_json(row.args) if request is None or request.args is None else request.args
    kwargs = _load_json(row.kwargs) if request is None or request.kwargs is None else request.kwargs
    return Fire(
        job_id=row.id,
        func_ref=row.func,
        args=list(args),
        kwargs=dict(kwargs),
        executor=row.executor,
        scheduled_time=scheduled_time,
        misfire_grace_time=None,
        timeout=row.timeout,
    )


def _run_row(
    job_id: str,
    scheduled_time: datetime,
    node_id: str | None,
    outcome: Outcome,
    now: datetime,
    *,
    error: str | None = None,
    coalesced: int = 0,
) -> dict[str, Any]:
    final = outcome is not Outcome.RUNNING
    return {
        "job_id": job_id,
        "scheduled_time": scheduled_time,
        "node_id": node_id,
        "outcome": outcome.value,
        "manual": False,
        "claimed_at": now,
        "started_at": None,
        "finished_at": now if final else None,
        "result": None,
        "error": error,
        "traceback": None,
        "coalesced": coalesced,
    }


def _row_to_run(row: Row[Any]) -> Run:
    return Run(
        id=row.id,
        job_id=row.job_id,
        scheduled_time=row.scheduled_time,
        node_id=row.node_id,
        outcome=Outcome(row.outcome),
        manual=row.manual,
        claimed_at=row.claimed_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        result=row.result,
        error=row.error,
        traceback=row.traceback,
        coalesced=row.coalesced,
        args=_run_arguments(row.args, list),
        kwargs=_run_arguments(row.kwargs, dict),
        requested_by=row.requested_by,
    )


def _run_arguments(raw: Any, kind: type[Any]) -> Any:
    """A run's own arguments as selected undecoded (see :func:`q.select_runs`); NULL, or
    text that is not JSON of that ``kind`` (a corrupt row), reads as None, so one row
    never breaks the history it is in."""
    if raw is None:
        return None
    try:
        value = _load_json(raw)
    except ValueError:
        return None
    return value if isinstance(value, kind) else None


def _row_to_node(row: Row[Any]) -> Node:
    return Node(
        id=row.id,
        host=row.host,
        pid=row.pid,
        version=row.version,
        state=NodeState(row.state),
        is_paused=row.is_paused,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        stopped_at=row.stopped_at,
    )
