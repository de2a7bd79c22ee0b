"""Writes retried after a lost connection (PostgreSQL, real connection kills).

The worst moment is a connection lost while committing: the transaction reached the
database, but the client cannot know. The hook below commits for real, then has the
server terminate the backend, so the commit SQLAlchemy sends next fails as it would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Connection, event

from tests.conftest import _libpq, eventually
from tickwork.clock import ManualClock
from tickwork.engine.planner import plan_claim
from tickwork.exceptions import DatabaseUnavailableError
from tickwork.job import Job
from tickwork.node import Node, NodeState
from tickwork.run import Outcome
from tickwork.store.base import Store
from tickwork.store.postgres import PostgresStore
from tickwork.store.retry import CommitInDoubtError
from tickwork.triggers import IntervalTrigger

pytestmark = pytest.mark.postgres

T0 = datetime(2030, 1, 1, tzinfo=UTC)
NODE = "node-a"


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_url, clock=ManualClock(T0))
    store.start()
    store.register_node(Node(NODE, "host", 1, "test", NodeState.RUNNING, False, T0, T0, None))
    yield store
    store.close()


@pytest.fixture
def lose_next_commit(store: PostgresStore, postgres_url: str) -> Iterator[Callable[[], list[int]]]:
    """Arm: the next commit reaches the database, then its connection is killed."""
    killed: list[int] = []
    armed: list[bool] = []

    def on_commit(conn: Connection) -> None:
        if not armed:
            return
        armed.clear()
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.commit()  # the change is durable now
        driver.execute("SELECT 1")  # so the COMMIT that follows goes to the server
        pid = driver.info.backend_pid
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            eventually(
                lambda: (
                    admin.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]
                    ).fetchone()
                    == (0,)
                )
            )
        killed.append(pid)

    engine = store._engine  # the store's own pool: the hook must see its connections
    event.listen(engine, "commit", on_commit)

    def arm() -> list[int]:
        armed.append(True)
        return killed

    yield arm
    event.remove(engine, "commit", on_commit)


def job(job_id: str) -> Job:
    return Job(
        id=job_id,
        func_ref="tests.jobs:record",
        trigger=IntervalTrigger(seconds=10, start_date=T0),
        next_run_time=T0,
        misfire_grace_time=None,
    )


def test_add_jobs_whose_commit_was_lost_succeeds_instead_of_conflicting(
    store: Store, lose_next_commit: Callable[[], list[int]]
) -> None:
    killed = lose_next_commit()
    store.add_jobs([job("a"), job("b")])  # no ConflictError from its own first commit
    assert killed, "the connection was not killed"
    assert [j.id for j in store.get_jobs(order="id")] == ["a", "b"]


def test_a_run_now_whose_commit_was_lost_is_recorded_once(
    store: Store, lose_next_commit: Callable[[], list[int]]
) -> None:
    store.add_jobs([job("m")])
    killed = lose_next_commit()
    fire = store.start_manual_run("m", NODE)
    assert killed
    (run,) = store.get_runs(job_id="m")  # no orphan second run
    assert (run.scheduled_time, run.outcome, run.manual) == (
        fire.scheduled_time,
        Outcome.RUNNING,
        True,
    )


def test_remove_job_whose_commit_was_lost_does_not_say_there_was_no_job(
    store: Store, lose_next_commit: Callable[[], list[int]]
) -> None:
    store.add_jobs([job("r")])
    killed = lose_next_commit()
    store.remove_job("r")
    assert killed
    assert store.count_jobs() == 0


def test_a_claim_whose_commit_was_lost_is_not_retried(
    store: Store, lose_next_commit: Callable[[], list[int]]
) -> None:
    """Claiming again would hand out the next fires while the first ones are unknown to
    the engine; their rows are left for :meth:`Engine.abandon_orphans`."""
    store.add_jobs([job("c")])
    lose_next_commit()
    with pytest.raises(CommitInDoubtError) as raised:
        store.claim_due(NODE, plan_claim, limit=10)
    assert isinstance(raised.value, DatabaseUnavailableError)
    assert [run.outcome for run in store.get_runs(job_id="c")] == [Outcome.RUNNING]
    assert store.claim_due(NODE, plan_claim, limit=10).plan.fires == []  # fire is taken
