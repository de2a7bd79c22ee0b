"""Several real scheduler processes on one database: every fire runs exactly once."""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.acceptance.cluster import executions, nodes, pg_ctl, succeeded_since, wait_all
from tests.acceptance.cluster_node import SETTINGS
from tests.conftest import eventually
from tickwork import Outcome, Scheduler

pytestmark = pytest.mark.slow


@pytest.fixture
def admin(database_url: str) -> Iterator[Scheduler]:
    """A scheduler that is never started: the test's view of the shared database."""
    scheduler = Scheduler(database_url, timezone="UTC")
    yield scheduler
    scheduler.close()


JOBS = 50
FIRES_PER_JOB = 20


def test_three_nodes_run_every_fire_exactly_once(
    database_url: str, admin: Scheduler, tmp_path: Path
) -> None:
    """50 interval jobs every second for 20 s on 3 processes: exactly 1,000 executions."""
    log = tmp_path / "executions.log"
    start = datetime.now(UTC) + timedelta(seconds=5)
    with nodes(database_url, 3, seconds=(start - datetime.now(UTC)).total_seconds() + 23) as procs:
        admin.add_jobs(
            {
                "id": f"job{n:02}",
                "func": "tests.jobs:append_line",
                "args": [str(log), f"job{n:02}"],
                "trigger": "interval",
                "seconds": 1,
                "start_date": start,
                "end_date": start + timedelta(seconds=FIRES_PER_JOB - 0.5),
            }
            for n in range(JOBS)
        )
        wait_all(procs, timeout=60)
        node_ids = {process.node_id for process in procs}
    counts = executions(log)
    duplicates = {job: n for job, n in counts.items() if n > FIRES_PER_JOB}
    misses = {f"job{n:02}": FIRES_PER_JOB - counts[f"job{n:02}"] for n in range(JOBS)}
    assert duplicates == {}
    assert {job: n for job, n in misses.items() if n} == {}
    assert sum(counts.values()) == JOBS * FIRES_PER_JOB
    runs = admin.get_runs(limit=5000)
    assert len(runs) == JOBS * FIRES_PER_JOB
    assert {run.outcome for run in runs} == {Outcome.SUCCEEDED}
    assert len({(run.job_id, run.scheduled_time) for run in runs}) == len(runs)
    assert {run.node_id for run in runs} <= node_ids
    pids = {line.split("\t")[1] for line in log.read_text().splitlines()}
    assert len(pids) >= 2, "the work was shared between nodes"


def test_a_killed_nodes_runs_become_lost_and_the_others_carry_on(
    database_url: str, admin: Scheduler, tmp_path: Path
) -> None:
    log = tmp_path / "executions.log"
    with nodes(database_url, 3, seconds=60) as procs:
        victim, *survivors = procs
        for node in survivors:  # only the victim may claim the long jobs
            admin.pause_node(node.node_id)
        for job_id, rerun, seconds in (("long", False, 60), ("retried", True, 10)):
            admin.add_job(
                "tests.jobs:append_line",
                args=[str(log), job_id, seconds],
                rerun_lost=rerun,
                misfire_grace_time=None,
                id=job_id,
            )
        eventually(lambda: len(admin.get_runs(outcome="running")) == 2, timeout=30)
        for node in survivors:
            admin.resume_node(node.node_id)
        admin.add_job(
            "tests.jobs:append_line",
            args=[str(log), "tick"],
            trigger="interval",
            seconds=0.5,
            id="tick",
        )
        eventually(lambda: admin.get_runs("tick", outcome="succeeded"), timeout=30)

        killed_at = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        eventually(lambda: admin.get_runs("long", outcome="lost"), timeout=30)
        detected_after = time.monotonic() - killed_at
        # node_timeout plus a heartbeat or two, with room for a loaded CI machine
        assert detected_after < SETTINGS.node_timeout + 10
        assert admin.get_node(victim.node_id).state.value == "dead"
        (lost,) = admin.get_runs("long")
        assert lost.node_id == victim.node_id
        assert "heartbeat" in (lost.error or "")

        # the job that asked for it is run again, by a surviving node
        reruns = eventually(
            lambda: [r for r in admin.get_runs("retried") if r.outcome is Outcome.RUNNING],
            timeout=30,
        )
        # by a surviving process (which may have rejoined under a new node id if its own
        # heartbeat lagged on a loaded machine)
        rerun_node = admin.get_node(reruns[0].node_id)
        assert rerun_node.pid in {node.pid for node in survivors}

        # the schedule goes on without the victim
        after_kill = datetime.now(UTC)
        eventually(
            lambda: [r for r in admin.get_runs("tick") if r.scheduled_time > after_kill],
            timeout=30,
        )
        for node in survivors:
            node.send_signal(signal.SIGTERM)
        wait_all(survivors, timeout=60)

    tick_runs = admin.get_runs("tick", limit=1000)
    started = [r for r in tick_runs if r.outcome in (Outcome.SUCCEEDED, Outcome.LOST)]
    assert executions(log)["tick"] <= len(started), "a tick ran more often than it was claimed"
    assert len({r.scheduled_time for r in tick_runs}) == len(tick_runs)
    assert executions(log)["long"] == 1


def test_nodes_survive_a_postgres_restart(restartable_postgres: str, tmp_path: Path) -> None:
    url = restartable_postgres
    log = tmp_path / "executions.log"
    admin = Scheduler(url, timezone="UTC")
    try:
        admin.add_jobs(
            {
                "id": f"job{n}",
                "func": "tests.jobs:append_line",
                "args": [str(log), f"job{n}"],
                "trigger": "interval",
                "seconds": 0.5,
            }
            for n in range(10)
        )
        with nodes(url, 2, seconds=60) as procs:
            started = datetime.now(UTC)
            for n in range(10):  # both nodes are up and the jobs fire before the outage
                eventually(
                    functools.partial(succeeded_since, admin, f"job{n}", started), timeout=30
                )
            pg_ctl("stop", "-m", "fast")
            try:
                time.sleep(3)  # the outage: several claim and heartbeat intervals long
            finally:
                pg_ctl("restart")  # starts again with the options of the first start
            restarted = datetime.now(UTC)
            for n in range(10):
                eventually(
                    functools.partial(succeeded_since, admin, f"job{n}", restarted),
                    timeout=30,
                )
            for process in procs:
                process.send_signal(signal.SIGTERM)
            wait_all(procs, timeout=60)
        runs = admin.get_runs(limit=10000)
    finally:
        admin.close()
    assert not [r for r in runs if r.outcome is Outcome.RUNNING], "no run left unfinished"
    counts = executions(log)
    for n in range(10):
        succeeded = [r for r in runs if r.job_id == f"job{n}" and r.outcome is Outcome.SUCCEEDED]
        assert counts[f"job{n}"] == len(succeeded), f"job{n} ran twice or unrecorded"
