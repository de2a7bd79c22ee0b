"""Restarting one ``tickwork serve`` node of two, which re-adds its ``[[jobs]]`` with
``replace_existing``, never stalls the other's claims nor fires a time twice."""

from __future__ import annotations

import functools
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance.cluster import succeeded_since
from tests.acceptance.test_serve import start_server
from tests.conftest import eventually
from tickwork import Outcome, Scheduler

pytestmark = pytest.mark.slow

CONFIG = """
allowed_callables = ["tests.jobs:*"]

[engine]
poll_interval = 0.05
heartbeat_interval = 0.5
node_timeout = 5

[[jobs]]
id = "every-second"
func = "tests.jobs:append_line"
trigger = "cron"
second = "*"
coalesce = false
args = ["{lines}", "every-second"]

[[jobs]]
id = "canary"
func = "tests.jobs:append_line"
trigger = "interval"
seconds = 1
args = ["{lines}", "canary"]
"""

RESTARTS = 4


def test_restarting_a_node_keeps_the_cluster_firing(database_url: str, tmp_path: Path) -> None:
    lines = tmp_path / "lines.txt"
    config = tmp_path / "tickwork.toml"
    config.write_text(CONFIG.format(lines=lines))
    admin = Scheduler(database_url, timezone="UTC")
    steady = start_server(database_url, config)
    servers = [steady]
    try:
        for _ in range(RESTARTS):
            restarted = start_server(database_url, config)
            servers.append(restarted)
            since = datetime.now(UTC)
            for job_id in ("every-second", "canary"):  # both nodes claim again
                eventually(functools.partial(succeeded_since, admin, job_id, since, at_least=2), 30)
            restarted.process.send_signal(signal.SIGTERM)
            assert restarted.process.wait(timeout=60) == 0
        steady.process.send_signal(signal.SIGTERM)
        assert steady.process.wait(timeout=60) == 0
        runs = admin.get_runs(limit=10_000)
    finally:
        logged = ""
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
            logged += server.process.communicate(timeout=30)[1]
        admin.close()
    assert "claim failed" not in logged, "a claim transaction failed"
    assert [r for r in runs if r.outcome is Outcome.RUNNING] == []
    executed = Counter(line.split("\t")[0] for line in lines.read_text().splitlines())
    succeeded = Counter(r.job_id for r in runs if r.outcome is Outcome.SUCCEEDED)
    assert executed == succeeded
