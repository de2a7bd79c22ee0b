"""Broken jobs and coalesced runs as the CLI shows them."""

from __future__ import annotations

from datetime import timedelta

from tests.cli.conftest import Invoke, as_json, stopped_scheduler
from tests.integration.rows import corrupt_job
from tickwork.engine.planner import plan_claim
from tickwork.node import Node, NodeState


def test_a_broken_job_is_listed_and_shown_as_broken(cli: Invoke, database_url: str) -> None:
    with stopped_scheduler(database_url) as scheduler:
        past = scheduler.store.now() - timedelta(seconds=3.5)
        for job_id in ("bad", "behind"):
            scheduler.add_job(
                "tests.jobs:record",
                "interval",
                seconds=1,
                start_date=past,
                next_run_time=past,
                misfire_grace_time=None,
                id=job_id,
            )
        corrupt_job(database_url, "bad", '{"type": "lunar"}')
        now = scheduler.store.now()
        node = Node("cli-test", "host", 1, "test", NodeState.RUNNING, False, now, now, None)
        scheduler.store.register_node(node)
        scheduler.store.claim_due(
            "cli-test", plan_claim, limit=10, now=past + timedelta(seconds=3.5)
        )
    listed = cli("jobs", "list")
    assert listed.exit_code == 0, listed.output
    (bad_line,) = [line for line in listed.stdout.splitlines() if line.startswith("bad ")]
    assert "BROKEN" in bad_line
    assert "unreadable" in bad_line
    shown = cli("jobs", "show", "bad")
    assert "BROKEN:" in shown.stdout
    assert "lunar" in shown.stdout
    assert "lunar" in as_json(cli("jobs", "show", "bad", "--json"))["broken_reason"]
    runs = cli("runs", "--job", "behind")
    assert "+3 coalesced" in runs.stdout
