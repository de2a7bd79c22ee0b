"""Stopping processes whose job never returns (issue 11, findings 4 and 8).

``tickwork serve`` waits ``shutdown_grace`` seconds for running jobs, records the rest
``interrupted`` and exits; a second signal cuts the wait short. ``tickwork jobs run`` is a
node of its own while its job runs: SIGTERM records the run interrupted, SIGKILL leaves it
to the cluster's reaper, which marks it lost.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.acceptance.broken_node import DATABASE_VARIABLE
from tests.acceptance.test_serve import (
    ROOT,
    TICKWORK,
    Server,
    cli,
    environment,
    start_server,
)
from tests.conftest import eventually
from tickwork import EngineSettings, Outcome, Scheduler
from tickwork.server.serving import EXIT_INTERRUPTED, EXIT_UNHEALTHY

SERVE_CONFIG = """
allowed_callables = ["tests.jobs:*"]

[engine]
poll_interval = 0.05
heartbeat_interval = 0.5
node_timeout = 5
shutdown_grace = {grace}

[[jobs]]
id = "forever"
func = "tests.jobs:sleep"
trigger = "date"
args = [3600]
"""


def _runs(database_url: str, job_id: str) -> list[dict[str, Any]]:
    result = cli(database_url, "runs", "--job", job_id, "--json")
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


def _running(database_url: str, job_id: str) -> bool:
    return any(run["outcome"] == "running" for run in _runs(database_url, job_id))


def _serve_with_a_job_that_never_returns(database_url: str, tmp_path: Path, grace: float) -> Server:
    config = tmp_path / "forever.toml"
    config.write_text(SERVE_CONFIG.format(grace=grace))
    server = start_server(database_url, config)
    eventually(lambda: _running(database_url, "forever"), timeout=30)
    return server


def _no_run_left_running(database_url: str) -> None:
    runs = json.loads(cli(database_url, "runs", "--limit", "1000", "--json").stdout)
    assert [run for run in runs if run["outcome"] == "running"] == []


@pytest.mark.slow
def test_sigterm_interrupts_a_job_that_never_returns_after_the_grace_period(
    postgres_url: str, tmp_path: Path
) -> None:
    process = _serve_with_a_job_that_never_returns(postgres_url, tmp_path, grace=1).process
    process.send_signal(signal.SIGTERM)
    # the bound is the grace period plus the time a loaded machine takes to shut down
    _, err = process.communicate(timeout=1 + 30)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err
    (run,) = _runs(postgres_url, "forever")
    assert run["outcome"] == Outcome.INTERRUPTED.value
    assert "1 s shutdown grace period" in run["error"]
    assert run["started_at"] is not None
    nodes = json.loads(cli(postgres_url, "nodes", "list", "--all", "--json").stdout)
    assert [node["state"] for node in nodes] == ["stopped"]
    _no_run_left_running(postgres_url)


@pytest.mark.slow
def test_a_second_signal_stops_at_once(sqlite_url: str, tmp_path: Path) -> None:
    server = _serve_with_a_job_that_never_returns(sqlite_url, tmp_path, grace=3600)
    process = server.process
    process.send_signal(signal.SIGTERM)

    def waiting_for_jobs() -> bool:
        # requests stop being served before the wait for running jobs begins
        try:
            requests.get(server.api, timeout=5)
        except requests.ConnectionError:
            return process.poll() is None
        return False

    eventually(waiting_for_jobs, timeout=30)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "interrupting running jobs now" in err
    (run,) = _runs(sqlite_url, "forever")
    assert run["outcome"] == Outcome.INTERRUPTED.value
    assert "second signal" in run["error"]
    _no_run_left_running(sqlite_url)


def _start_manual_run(database_url: str) -> subprocess.Popen[str]:
    added = cli(
        database_url, "jobs", "add", "manual", "tests.jobs:sleep", "-t", "date",
        "--args", "[3600]", "--paused", "--create",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    process = subprocess.Popen(
        [TICKWORK, "jobs", "run", "manual"],
        cwd=ROOT,
        env=environment(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def started() -> bool:
        return any(
            run["outcome"] == "running" and run["node_id"] and run["started_at"]
            for run in _runs(database_url, "manual")
        )

    eventually(started, timeout=30)
    return process


@pytest.mark.slow
def test_sigterm_records_a_manual_cli_run_interrupted(postgres_url: str) -> None:
    process = _start_manual_run(postgres_url)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1, err
    assert "job manual interrupted; its run is recorded as interrupted" in err
    (run,) = _runs(postgres_url, "manual")
    assert (run["outcome"], run["manual"]) == (Outcome.INTERRUPTED.value, True)
    nodes = json.loads(cli(postgres_url, "nodes", "list", "--all", "--json").stdout)
    assert [(node["id"], node["state"]) for node in nodes] == [(run["node_id"], "stopped")]


@pytest.mark.slow
def test_a_killed_manual_cli_run_is_reaped_as_lost(postgres_url: str) -> None:
    process = _start_manual_run(postgres_url)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    # any live node of the cluster buries the CLI's node and its run
    settings = EngineSettings(poll_interval=0.05, heartbeat_interval=0.2, node_timeout=3.0)
    reaper = Scheduler(postgres_url, settings=settings, timezone="UTC")
    reaper.start()
    try:
        (run,) = eventually(
            lambda: [r for r in reaper.get_runs("manual") if r.outcome is Outcome.LOST]
        )
        assert "stopped heartbeating" in (run.error or "")
    finally:
        reaper.close()
    _no_run_left_running(postgres_url)


@pytest.mark.slow
def test_a_node_whose_claim_loop_keeps_crashing_exits_non_zero(postgres_url: str) -> None:
    env = {**environment(postgres_url), DATABASE_VARIABLE: postgres_url}
    del env["TICKWORK_DATABASE_URL"]
    process = subprocess.Popen(
        [TICKWORK, "serve", "--port", "0", "--app", "tests.acceptance.broken_node:scheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the thread is restarted 5 times with a growing pause, then the node gives up
    out, err = process.communicate(timeout=90)
    assert process.returncode == EXIT_UNHEALTHY, err
    assert "tickwork node" in out
    assert "node unhealthy: thread tickwork-engine keeps crashing; last: SystemExit: " in err
    assert "injected fault in the claim loop" in err
    nodes = json.loads(cli(postgres_url, "nodes", "list", "--all", "--json").stdout)
    assert [node["state"] for node in nodes] == ["stopped"]
