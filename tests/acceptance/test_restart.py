"""Stop a scheduler process, start another on the same database: nothing is forgotten."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.acceptance.cluster_node import SETTINGS
from tests.conftest import eventually
from tickwork import Outcome, Run, Scheduler
from tickwork.triggers import IntervalTrigger

ROOT = Path(__file__).resolve().parents[2]


def run_node(url: str, seconds: float, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tests.acceptance.cluster_node", url, str(seconds), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.mark.slow
def test_a_new_process_takes_over_schedule_and_history(database_url: str) -> None:
    first = run_node(database_url, 1.6, "setup")
    first_node = first.stdout.split()[1]

    scheduler = Scheduler(database_url, timezone="UTC", settings=SETTINGS)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"lenient", "strict", "nightly"}
        # The schedule goes on while no node is up: wait until two fires of "strict" are
        # past their grace time, so the new node must record them as missed.
        strict = jobs["strict"]
        assert isinstance(strict.trigger, IntervalTrigger)
        assert strict.next_run_time is not None
        assert strict.misfire_grace_time is not None
        grace = timedelta(seconds=strict.misfire_grace_time)
        overdue = strict.next_run_time + strict.trigger.interval + grace
        eventually(lambda: datetime.now(UTC) > overdue)
        assert jobs["nightly"].trigger.to_dict()["hour"] == "3"
        history = scheduler.get_runs(limit=1000)
        assert history, "the first process's runs are kept"
        assert {run.node_id for run in history} == {first_node}
        assert all(run.outcome is not Outcome.RUNNING for run in history)
        before = {job_id: len(scheduler.get_runs(job_id, limit=1000)) for job_id in jobs}

        scheduler.start()
        assert scheduler.node_id != first_node

        def new_runs(job_id: str) -> list[Run]:
            return [
                r for r in scheduler.get_runs(job_id, limit=1000) if r.node_id == scheduler.node_id
            ]

        # coalesce: the whole gap becomes one catch-up run, then the schedule goes on
        eventually(lambda: new_runs("lenient"))
        catch_up = sorted(new_runs("lenient"), key=lambda r: r.scheduled_time)[0]
        assert catch_up.outcome in (Outcome.SUCCEEDED, Outcome.RUNNING)
        # no coalesce and a short grace time: every fire of the gap is recorded as missed
        missed = eventually(lambda: [r for r in new_runs("strict") if r.outcome is Outcome.MISSED])
        assert len(missed) >= 2
        assert len(scheduler.get_runs("nightly")) == before["nightly"] == 0
    finally:
        scheduler.close()
