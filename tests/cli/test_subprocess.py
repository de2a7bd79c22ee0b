"""The installed ``tickwork`` command as a real process: exit codes, stderr, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TICKWORK = str(Path(sys.executable).with_name("tickwork"))


def tickwork(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TICKWORK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [TICKWORK, *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_commands_as_processes(database_url: str) -> None:
    missing = tickwork(database_url, "jobs", "list")
    assert missing.returncode == 2
    assert "db upgrade" in missing.stderr
    assert "Traceback" not in missing.stderr
    created = tickwork(database_url, "db", "upgrade")
    assert created.returncode == 0, created.stderr

    added = tickwork(
        database_url, "jobs", "add", "p", "tests.jobs:add", "-t", "interval", "-a", "minutes=5",
        "--args", "[1, 2]", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["minutes"] == 5

    listed = tickwork(database_url, "jobs", "list", "--json")
    assert [job["id"] for job in json.loads(listed.stdout)] == ["p"]

    unknown = tickwork(database_url, "jobs", "pause", "ghost")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "Error: No job by the id of ghost was found"

    bad = tickwork(
        database_url, "jobs", "add", "q", "tests.jobs:add", "-t", "cron", "-a", "minute=61"
    )
    assert bad.returncode == 2
    assert "minute" in bad.stderr
    assert "Traceback" not in bad.stderr
    after = tickwork(database_url, "jobs", "list", "--json")
    assert [job["id"] for job in json.loads(after.stdout)] == ["p"]

    ran = tickwork(database_url, "jobs", "run", "p", "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["result"] == "3"
    history = tickwork(database_url, "runs", "--json", "--job", "p")
    assert [run["outcome"] for run in json.loads(history.stdout)] == ["succeeded"]


def test_version_and_help() -> None:
    version = subprocess.run([TICKWORK, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("tickwork, version")
    help_text = subprocess.run(
        [TICKWORK, "jobs", "add", "--help"], capture_output=True, text=True, check=True
    )
    assert "KEY=VALUE" in help_text.stdout
