"""Starting and stopping real node processes for cluster tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tickwork import Outcome, Scheduler

ROOT = Path(__file__).resolve().parents[2]


class NodeProcess(subprocess.Popen[str]):
    """A node process, with the node id it printed once ready."""

    node_id: str = ""


@contextmanager
def nodes(url: str, count: int, seconds: float) -> Iterator[list[NodeProcess]]:
    """``count`` node processes on ``url``, each ready when this yields; killed on exit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        NodeProcess(
            [sys.executable, "-m", "tests.acceptance.cluster_node", url, str(seconds)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("ready"), f"node did not start: {line!r}"
            process.node_id = line.split()[1]
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()


def wait_all(processes: list[NodeProcess], timeout: float) -> None:
    for process in processes:
        assert process.wait(timeout=timeout) == 0


def executions(path: Path) -> Counter[str]:
    """How often each job's function ran, from the lines it appended."""
    if not path.exists():
        return Counter()
    return Counter(line.split("\t")[0] for line in path.read_text().splitlines() if line)


def pg_ctl(*args: str) -> None:
    """Run ``pg_ctl`` on the throwaway server of scripts/with-postgres (stop, restart)."""
    data = os.environ["TICKWORK_TEST_POSTGRES_DATA"]
    command = [
        f"{os.environ['TICKWORK_TEST_POSTGRES_BIN']}/pg_ctl",
        *("-D", data, "-l", f"{data}/../server.log", "-w"),
        *args,
    ]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    # The server inherits no pipe of ours, or this would wait for it to exit.
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
    )


def succeeded_since(admin: Scheduler, job_id: str, since: datetime, at_least: int = 1) -> bool:
    """Whether ``job_id`` succeeded ``at_least`` times for fires scheduled after ``since``."""
    runs = admin.get_runs(job_id, outcome=Outcome.SUCCEEDED)
    return len([run for run in runs if run.scheduled_time > since]) >= at_least
