"""The store contract (tickwork.store.base.Store), tested against both backends.

Each test names the store methods it covers (:func:`covers`); the last test checks that
every abstract method of the contract is covered, so a new method needs a test here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tickwork.clock import ManualClock
from tickwork.engine.planner import plan_claim
from tickwork.exceptions import (
    ConflictError,
    JobLookupError,
    MaxInstancesReachedError,
    NodeLookupError,
)
from tickwork.job import Job
from tickwork.node import Node, NodeState
from tickwork.run import Outcome, RunResult, RunStart
from tickwork.store import MEMORY_URL, Store, create_store
from tickwork.store.base import ClaimPlan, DueJob, Fire
from tickwork.store.schema import runs_table
from tickwork.triggers import DateTrigger, IntervalTrigger

T0 = datetime(2030, 1, 1, tzinfo=UTC)
NODE = "node-a"
OTHER = "node-b"

COVERED: set[str] = set()
_Test = TypeVar("_Test", bound=Callable[..., None])


def covers(*methods: str) -> Callable[[_Test], _Test]:
    """Record that the decorated test exercises these store methods."""
    COVERED.update(methods)
    return lambda test: test


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each backend, and the in-memory store (for the tests of one store)."""
    if request.param == "memory":
        return MEMORY_URL
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def open_store(database_url: str, clock: ManualClock) -> Iterator[Callable[[], Store]]:
    """Stores on the test's database (as separate processes would have), all closed after."""
    opened: list[Store] = []

    def make() -> Store:
        if opened and database_url == MEMORY_URL:
            pytest.skip("an in-memory database has no second store to share it")
        store = create_store(database_url, clock=clock)
        store.start()
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store], clock: ManualClock) -> Store:
    """A started store with two registered nodes."""
    store = open_store()
    for node_id in (NODE, OTHER):
        store.register_node(node(node_id, clock.now()))
    return store


def node(node_id: str, now: datetime) -> Node:
    return Node(node_id, "host", 1, "test", NodeState.RUNNING, False, now, now, None)


def job(job_id: str, due: datetime | None = T0, every: int = 10, **options: object) -> Job:
    """An interval job due at ``due`` that runs however late."""
    fields: dict[str, object] = {"misfire_grace_time": None, "max_instances": 10} | options
    return Job(
        id=job_id,
        func_ref="tests.jobs:record",
        trigger=IntervalTrigger(seconds=every, start_date=T0),
        next_run_time=due,
        **fields,  # type: ignore[arg-type]
    )


def one_shot(job_id: str, **options: object) -> Job:
    return Job(
        id=job_id,
        func_ref="tests.jobs:record",
        trigger=DateTrigger(T0),
        next_run_time=T0,
        misfire_grace_time=None,
        **options,  # type: ignore[arg-type]
    )


def claim(store: Store, node_id: str = NODE, limit: int = 100) -> list[Fire]:
    return store.claim_due(node_id, plan_claim, limit=limit).plan.fires


def outcome_of(store: Store, job_id: str) -> list[tuple[Outcome, str | None]]:
    return [(run.outcome, run.error) for run in store.get_runs(job_id=job_id)]


def result(fire: Fire, outcome: Outcome, at: datetime) -> RunResult:
    return RunResult(fire.job_id, fire.scheduled_time, outcome, None, at)


# -- the claim -------------------------------------------------------------------------------


@covers("claim_due")
def test_a_claim_held_open_makes_another_store_claim_nothing_of_its_row(
    open_store: Callable[[], Store], store: Store, clock: ManualClock
) -> None:
    """PostgreSQL skips the held row at once (SKIP LOCKED) and claims the others; SQLite's
    claim waits for the database's write lock (BEGIN IMMEDIATE) and, once the holder has
    committed, finds the row advanced. Either way the held fire is claimed once."""
    store.add_jobs([job("held", T0), job("free", T0 + timedelta(seconds=1))])
    clock.advance(1)  # both due; the holder, limited to one, locks the earlier
    second = open_store()
    entered, release = threading.Event(), threading.Event()
    held: list[Fire] = []

    def blocking(jobs: Sequence[DueJob], now: datetime, horizon: datetime) -> ClaimPlan:
        entered.set()
        release.wait(30)
        return plan_claim(jobs, now, horizon)

    holder = threading.Thread(
        target=lambda: held.extend(store.claim_due(NODE, blocking, limit=1).plan.fires)
    )
    holder.start()
    try:
        assert entered.wait(30)
        other: list[Fire] = []
        claimer = threading.Thread(target=lambda: other.extend(claim(second, OTHER)))
        claimer.start()
        claimer.join(timeout=5 if store.dialect == "postgresql" else 0.5)
        if store.dialect == "postgresql":
            assert not claimer.is_alive(), "SKIP LOCKED must not wait for the held row"
            assert [fire.job_id for fire in other] == ["free"]
        else:
            assert claimer.is_alive(), "the second claim must wait for the write lock"
    finally:
        release.set()
        holder.join()
    claimer.join()
    assert [fire.job_id for fire in held] == ["held"]
    assert "held" not in [fire.job_id for fire in other]
    assert [run.scheduled_time for run in store.get_runs(job_id="held")] == [T0]


@covers("claim_due")
def test_a_duplicate_run_row_is_refused_by_the_unique_constraint(
    store: Store, database_url: str
) -> None:
    if database_url == MEMORY_URL:
        pytest.skip("no second connection reaches an in-memory database")
    store.add_jobs([job("again")])
    (fire,) = claim(store)
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    row = {
        "job_id": "again",
        "scheduled_time": fire.scheduled_time,
        "outcome": Outcome.RUNNING.value,
        "manual": False,
        "claimed_at": T0,
    }
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(runs_table), [row])
    finally:
        engine.dispose()
    # a planner proposing the claimed fire again gets nothing, and the claim goes on
    store.update_job("again", lambda stored: replace(stored, next_run_time=T0))
    store.add_jobs([job("fresh")])

    def forgetful(jobs: Sequence[DueJob], now: datetime, horizon: datetime) -> ClaimPlan:
        return plan_claim([replace(due, last_claimed=None) for due in jobs], now, horizon)

    fires = store.claim_due(NODE, forgetful, limit=10).plan.fires
    assert [fire.job_id for fire in fires] == ["fresh"]
    assert len(store.get_runs(job_id="again")) == 1


@covers("claim_due", "set_global_paused", "get_scheduler_state", "set_node_paused")
def test_nothing_is_claimed_under_a_global_or_node_pause(store: Store) -> None:
    store.add_jobs([job("j")])
    assert store.set_global_paused(True).is_paused
    assert store.get_scheduler_state().is_paused
    paused = store.claim_due(NODE, plan_claim, limit=10)
    assert (paused.plan.fires, paused.pause.global_paused) == ([], True)
    store.set_global_paused(False)
    assert store.set_node_paused(NODE, True).is_paused
    assert claim(store) == []
    assert [fire.job_id for fire in claim(store, OTHER)] == ["j"]
    with pytest.raises(NodeLookupError):
        store.set_node_paused("nobody", True)


@covers("claim_due", "now")
def test_the_claim_advances_the_job_and_says_when_the_next_is_due(
    store: Store, clock: ManualClock
) -> None:
    assert store.now() == T0
    store.add_jobs([job("j")])
    result = store.claim_due(NODE, plan_claim, limit=10)
    assert [(f.job_id, f.scheduled_time) for f in result.plan.fires] == [("j", T0)]
    assert result.next_due_in == 10.0
    assert claim(store) == []  # the same fire is never claimed twice
    clock.advance(10)
    assert [f.scheduled_time for f in claim(store)] == [T0 + timedelta(seconds=10)]


# -- lost runs -------------------------------------------------------------------------------


@covers("reap_dead_nodes", "heartbeat", "get_node")
def test_reaping_marks_a_silent_nodes_runs_lost_once_and_reruns_them(
    store: Store, clock: ManualClock
) -> None:
    store.add_jobs([job("rerun", every=3600, rerun_lost=True), job("plain", every=3600)])
    fires = claim(store)
    assert len(fires) == 2
    clock.advance(30)
    store.heartbeat(OTHER)
    lost = store.reap_dead_nodes(timeout=10)
    assert {(run.job_id, run.node_id, run.rerun) for run in lost} == {
        ("rerun", NODE, True),
        ("plain", NODE, False),
    }
    assert store.get_node(NODE).state is NodeState.DEAD
    assert store.reap_dead_nodes(timeout=10) == []  # already dead: nothing more
    assert outcome_of(store, "plain")[0][0] is Outcome.LOST
    assert store.get_job("rerun").next_run_time == clock.now()  # pulled forward
    assert store.get_job("plain").next_run_time == T0 + timedelta(hours=1)
    with pytest.raises(NodeLookupError):
        store.heartbeat(NODE)  # a dead node stays dead


@covers("abandon_runs", "finish_runs")
def test_abandoning_or_finishing_a_run_already_lost(store: Store, clock: ManualClock) -> None:
    store.add_jobs([job("a"), job("b")])
    fires = {fire.job_id: fire for fire in claim(store)}
    clock.advance(30)
    store.heartbeat(OTHER)
    store.reap_dead_nodes(timeout=10)
    reaped = outcome_of(store, "a")
    # abandoning a run that is no longer running leaves the reaper's record
    store.abandon_runs(NODE, [("a", fires["a"].scheduled_time)], "abandoned")
    assert outcome_of(store, "a") == reaped
    # a lost report never replaces a final outcome ...
    store.finish_runs([result(fires["a"], Outcome.LOST, clock.now())])
    assert outcome_of(store, "a") == reaped
    # ... but the real outcome of a node that was only cut off does
    store.finish_runs([result(fires["b"], Outcome.SUCCEEDED, clock.now())])
    assert outcome_of(store, "b") == [(Outcome.SUCCEEDED, None)]
    # and a final outcome is never replaced again
    store.finish_runs([result(fires["b"], Outcome.FAILED, clock.now())])
    assert outcome_of(store, "b") == [(Outcome.SUCCEEDED, None)]


@covers("request_cancel", "cancel_requests")
def test_cancel_requests_are_kept_on_running_runs_for_their_node(
    store: Store, clock: ManualClock
) -> None:
    store.add_jobs([job("a")])
    fires = {fire.job_id: fire for fire in claim(store)}
    store.add_jobs([job("b")])
    (other,) = claim(store, OTHER)
    assert store.cancel_requests(NODE) == []
    assert store.request_cancel("a", fires["a"].scheduled_time)
    assert store.request_cancel("b", other.scheduled_time)
    assert store.cancel_requests(NODE) == [("a", fires["a"].scheduled_time)]
    assert store.cancel_requests(OTHER) == [("b", other.scheduled_time)]
    # a run that ended is no longer asked for, and cannot be asked again
    store.finish_runs([result(fires["a"], Outcome.CANCELLED, clock.now())])
    assert store.cancel_requests(NODE) == []
    assert not store.request_cancel("a", fires["a"].scheduled_time)
    assert not store.request_cancel("nope", T0)


@covers("abandon_runs")
def test_abandoned_runs_are_lost_and_rerun_as_asked(store: Store, clock: ManualClock) -> None:
    store.add_jobs([job("a", every=3600, rerun_lost=True)])
    (fire,) = claim(store)
    lost = store.abandon_runs(NODE, [("a", fire.scheduled_time)], "never started")
    assert [(run.job_id, run.rerun) for run in lost] == [("a", True)]
    assert outcome_of(store, "a") == [(Outcome.LOST, "never started")]
    assert store.get_job("a").next_run_time == clock.now()
    assert store.abandon_runs(NODE, [], "nothing") == []


@covers("finish_runs", "reap_dead_nodes")
def test_a_one_shot_job_with_rerun_lost_is_kept_until_its_run_ends(
    store: Store, clock: ManualClock
) -> None:
    store.add_jobs([one_shot("once", rerun_lost=True), one_shot("gone")])
    fires = {fire.job_id: fire for fire in claim(store)}
    assert store.get_job("once").next_run_time is None
    with pytest.raises(JobLookupError):
        store.get_job("gone")  # exhausted, no rerun: removed by the claim
    clock.advance(30)
    store.heartbeat(OTHER)
    store.reap_dead_nodes(timeout=10)
    assert store.get_job("once").next_run_time == clock.now()  # rescheduled for the rerun
    (rerun,) = claim(store, OTHER)
    store.finish_runs([result(rerun, Outcome.SUCCEEDED, clock.now())])
    with pytest.raises(JobLookupError):
        store.get_job("once")
    assert fires["once"].scheduled_time == T0


# -- jobs ------------------------------------------------------------------------------------


@covers("add_jobs", "get_job", "count_jobs", "remove_job", "remove_all_jobs")
def test_jobs_are_added_all_or_none_and_removed(store: Store) -> None:
    store.add_jobs([job("a"), job("b")])
    with pytest.raises(ConflictError):
        store.add_jobs([job("c"), job("b")])
    with pytest.raises(ConflictError):
        store.add_jobs([job("d"), job("d")])
    assert store.count_jobs() == 2
    with pytest.raises(JobLookupError):
        store.get_job("c")
    store.add_jobs([job("b", name="replaced")], replace_existing=True)
    assert store.get_job("b").name == "replaced"
    store.remove_job("a")
    with pytest.raises(JobLookupError):
        store.remove_job("a")
    assert store.remove_all_jobs() == 1
    assert store.count_jobs() == 0


@covers("get_jobs", "update_job", "count_broken_jobs")
def test_jobs_are_listed_in_order_and_updated_under_a_lock(store: Store) -> None:
    store.add_jobs([job("b", T0), job("a", T0 + timedelta(seconds=5)), job("c", None)])
    assert [j.id for j in store.get_jobs()] == ["b", "a", "c"]  # paused last
    assert [j.id for j in store.get_jobs(order="id", after="a", limit=1)] == ["b"]
    updated = store.update_job("c", lambda stored: replace(stored, next_run_time=T0))
    assert updated.next_run_time == T0
    with pytest.raises(JobLookupError):
        store.update_job("nobody", lambda stored: stored)
    assert store.count_broken_jobs() == 0


# -- runs ------------------------------------------------------------------------------------


@covers("start_manual_run", "mark_runs_started", "get_runs", "prune_runs")
def test_manual_runs_respect_max_instances_and_history_is_kept_and_pruned(
    store: Store, clock: ManualClock
) -> None:
    store.add_jobs([job("m", None, max_instances=1)])
    fire = store.start_manual_run("m", NODE)
    with pytest.raises(MaxInstancesReachedError):
        store.start_manual_run("m", OTHER)
    with pytest.raises(JobLookupError):
        store.start_manual_run("nobody", NODE)
    store.mark_runs_started([RunStart("m", fire.scheduled_time, clock.now())])
    (run,) = store.get_runs(job_id="m", outcome=Outcome.RUNNING, node_id=NODE)
    assert (run.manual, run.started_at) == (True, clock.now())
    assert store.get_runs(before=run.id) == []
    clock.advance(1)
    store.finish_runs([result(fire, Outcome.SUCCEEDED, clock.now())])
    assert store.prune_runs(T0) == 0  # claimed at T0, not before
    assert store.prune_runs(clock.now()) == 1
    assert store.get_runs() == []


# -- nodes -----------------------------------------------------------------------------------


@covers("register_node", "stop_node", "get_nodes", "get_node")
def test_nodes_register_take_over_and_stop(store: Store, clock: ManualClock) -> None:
    store.add_jobs([job("a"), job("b", T0 + timedelta(seconds=1))])
    claim(store, NODE, limit=1)
    clock.advance(1)
    claim(store, OTHER, limit=1)
    store.register_node(node(NODE, clock.now()))  # the same id restarting
    assert outcome_of(store, "a")[0][0] is Outcome.LOST
    store.stop_node(OTHER)
    assert outcome_of(store, "b")[0][0] is Outcome.LOST
    assert [n.id for n in store.get_nodes()] == [NODE]
    assert {n.id for n in store.get_nodes(include_stopped=True)} == {NODE, OTHER}
    assert store.get_node(OTHER).state is NodeState.STOPPED
    with pytest.raises(NodeLookupError):
        store.get_node("nobody")


# -- lifecycle and notifications -------------------------------------------------------------


@covers("start", "close", "listen", "unlisten")
def test_other_processes_hear_of_changes_where_the_store_can_push(
    open_store: Callable[[], Store], store: Store
) -> None:
    listener = open_store()
    store.start()  # starting again is harmless
    heard = threading.Event()
    listener.listen(heard.set)
    if listener.pushes_notifications:
        assert heard.wait(30)  # told once connected: changes may have been missed before
        heard.clear()
    store.add_jobs([job("a")])
    if listener.pushes_notifications:
        assert heard.wait(30)
    listener.unlisten(heard.set)
    listener.close()
    if not listener.pushes_notifications:
        assert not heard.is_set()


def test_every_store_method_is_covered() -> None:
    assert sorted(Store.__abstractmethods__ - COVERED) == []
    assert sorted(COVERED - Store.__abstractmethods__) == []
