"""A node frozen past the node timeout starts nothing it claimed before it froze."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.acceptance.cluster import executions, nodes, wait_all
from tests.conftest import eventually
from tickwork import Outcome, Run, Scheduler
from tickwork.node import NodeState

pytestmark = pytest.mark.slow


@pytest.fixture
def admin(database_url: str) -> Iterator[Scheduler]:
    scheduler = Scheduler(database_url, timezone="UTC")
    yield scheduler
    scheduler.close()


def spans(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, pid) of each execution that :func:`tests.jobs.append_span` logged."""
    found = []
    for line in path.read_text().splitlines():
        _, pid, started, ended = line.split("\t")
        found.append((float(started), float(ended), pid))
    return sorted(found)


def test_a_node_declared_dead_while_frozen_starts_nothing_it_claimed(
    database_url: str, admin: Scheduler, tmp_path: Path
) -> None:
    log, span_log = tmp_path / "canary.log", tmp_path / "spans.log"
    with nodes(database_url, 2, seconds=120) as procs:
        victim, survivor = procs
        victim_id: str = victim.node_id
        admin.pause_node(survivor.node_id)
        admin.add_job(
            "tests.jobs:append_line", "interval", [str(log), "canary"], seconds=1, id="canary"
        )
        admin.add_job(
            "tests.jobs:append_span",
            "interval",
            [str(span_log), "single", 0.3],
            seconds=1,
            max_instances=1,
            rerun_lost=True,
            coalesce=False,
            misfire_grace_time=None,
            id="single",
        )
        eventually(lambda: len(admin.get_runs("single", outcome=Outcome.SUCCEEDED)) >= 2, 30)

        def held() -> Run | None:
            """A fire the victim claimed ahead and holds until its time."""
            soon = admin.store.now() + timedelta(seconds=0.15)
            running = admin.get_runs("single", outcome=Outcome.RUNNING, limit=5)
            return next((run for run in running if run.scheduled_time > soon), None)

        frozen = eventually(held, timeout=30, interval=0.005)
        assert isinstance(frozen, Run)
        os.kill(victim.pid, signal.SIGSTOP)
        try:
            admin.resume_node(survivor.node_id)
            eventually(lambda: admin.get_node(victim_id).state is NodeState.DEAD, timeout=30)
            dead_at = datetime.now(UTC)
            eventually(
                lambda: [
                    r
                    for r in admin.get_runs("single", outcome=Outcome.SUCCEEDED)
                    if r.node_id != victim_id and r.scheduled_time > dead_at
                ],
                timeout=30,
            )
        finally:
            os.kill(victim.pid, signal.SIGCONT)
        # the victim comes back under a new id, and the schedule goes on
        eventually(
            lambda: [n for n in admin.get_nodes() if n.pid == victim.pid and n.id != victim_id],
            timeout=30,
        )
        woke = datetime.now(UTC)
        eventually(
            lambda: len([r for r in admin.get_runs("canary") if r.scheduled_time > woke]) >= 3,
            timeout=30,
        )
        for process in procs:
            process.send_signal(signal.SIGTERM)
        wait_all(procs, timeout=60)

    runs = admin.get_runs(limit=10_000)
    assert [r for r in runs if r.outcome is Outcome.RUNNING] == []
    (held_run,) = [
        r for r in runs if (r.job_id, r.scheduled_time) == ("single", frozen.scheduled_time)
    ]
    # the reaper's record stands: the victim neither ran it nor overwrote it
    assert held_run.outcome is Outcome.LOST
    assert "heartbeat" in (held_run.error or "")
    executed = spans(span_log)
    for (_, ended, _), (started, _, pid) in itertools.pairwise(executed):
        assert started >= ended, f"max_instances=1 job overlapped (started by pid {pid})"
    succeeded = [r for r in runs if r.job_id == "single" and r.outcome is Outcome.SUCCEEDED]
    assert len(executed) == len(succeeded)
    assert executions(log)["canary"] == len(
        [r for r in runs if r.job_id == "canary" and r.outcome is Outcome.SUCCEEDED]
    )
