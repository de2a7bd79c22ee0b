"""``tickwork serve`` as a real process: jobs added over HTTP and by the CLI run, show in
history and in /metrics, and SIGTERM stops it cleanly."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]
TICKWORK = str(Path(sys.executable).with_name("tickwork"))

CONFIG = """
allowed_callables = ["tests.jobs:*"]

[engine]
poll_interval = 0.05
heartbeat_interval = 0.5
node_timeout = 5

[[jobs]]
id = "from-config"
func = "tests.jobs:append_line"
trigger = "interval"
seconds = 0.3
args = ["{lines}", "config"]
"""


class Server:
    """A running ``tickwork serve`` and the lines it printed."""

    def __init__(self, process: subprocess.Popen[str], api: str) -> None:
        self.process = process
        self.api = api
        self.base = api.rsplit("/", 1)[0]


def environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "TICKWORK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}


def start_server(database_url: str, config: Path, *extra: str) -> Server:
    process = subprocess.Popen(
        [TICKWORK, "serve", "--port", "0", "--config", str(config), *extra],
        cwd=ROOT,
        env=environment(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    found: list[str] = []

    def read_first_line() -> None:
        assert process.stdout is not None
        found.append(process.stdout.readline())

    reader = threading.Thread(target=read_first_line, daemon=True)
    reader.start()
    reader.join(30)
    line = found[0] if found else ""
    if not line.startswith("tickwork API: "):
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"serve did not start: {line!r}\n{err}")
    return Server(process, line.split(": ", 1)[1].strip())


@pytest.fixture
def lines(tmp_path: Path) -> Path:
    return tmp_path / "lines.txt"


@pytest.fixture
def config(tmp_path: Path, lines: Path) -> Path:
    path = tmp_path / "tickwork.toml"
    path.write_text(CONFIG.format(lines=lines))
    return path


@pytest.fixture
def server(database_url: str, config: Path) -> Iterator[Server]:
    running = start_server(database_url, config)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.communicate(timeout=30)


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TICKWORK, *args],
        cwd=ROOT,
        env=environment(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def metric(base: str, name: str) -> float:
    for line in requests.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def tags(lines: Path) -> set[str]:
    if not lines.exists():
        return set()
    return {line.split("\t")[0] for line in lines.read_text().splitlines()}


@pytest.mark.slow
def test_serve_runs_jobs_from_http_cli_and_config(
    server: Server, database_url: str, lines: Path
) -> None:
    info = requests.get(server.api, timeout=10).json()
    assert info["running"] is True
    node_id = info["node_id"]
    fires_before = metric(server.base, "tickwork_fires_submitted_total")

    posted = requests.post(
        f"{server.api}/jobs",
        json={
            "id": "from-http",
            "func": "tests.jobs:append_line",
            "trigger": "interval",
            "seconds": 0.3,
            "args": [str(lines), "http"],
        },
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    # What a cross-site page could send is refused (tests/api/test_csrf.py has every form).
    forged = requests.post(
        f"{server.api}/pause", data="{}", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert forged.status_code == 415
    foreign = requests.post(
        f"{server.api}/pause", headers={"Origin": "https://evil.example"}, timeout=10
    )
    assert foreign.status_code == 403
    assert requests.get(server.api, timeout=10).json()["is_paused"] is False
    added = cli(
        database_url, "jobs", "add", "from-cli", "tests.jobs:append_line", "-t", "interval",
        "-a", "seconds=0.3", "--args", json.dumps([str(lines), "cli"]),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    eventually(lambda: {"config", "http", "cli"} <= tags(lines), timeout=20)

    def succeeded(job_id: str) -> bool:
        runs = requests.get(f"{server.api}/jobs/{job_id}/runs", timeout=10).json()
        return any(run["outcome"] == "succeeded" and run["node_id"] == node_id for run in runs)

    for job_id in ("from-config", "from-http", "from-cli"):
        eventually(functools.partial(succeeded, job_id), timeout=20)
    history = json.loads(cli(database_url, "runs", "--job", "from-cli", "--json").stdout)
    assert any(run["outcome"] == "succeeded" for run in history)

    # The counters move as jobs fire.
    after = eventually(
        lambda: (
            (value := metric(server.base, "tickwork_fires_submitted_total")) > fires_before
            and value
        )
    )
    assert isinstance(after, float)
    eventually(lambda: metric(server.base, "tickwork_fires_submitted_total") > after)
    assert metric(server.base, 'tickwork_runs_finished_total{outcome="succeeded"}') >= 3
    assert metric(server.base, "tickwork_jobs") == 3
    assert metric(server.base, "tickwork_nodes_running") == 1

    # A paused scheduler (from the CLI, server still up) shows in the gauge.
    assert cli(database_url, "pause").returncode == 0
    assert metric(server.base, "tickwork_scheduler_paused") == 1
    assert cli(database_url, "resume").returncode == 0

    # SIGTERM: exit 0, node marked stopped.
    server.process.send_signal(signal.SIGTERM)
    _, err = server.process.communicate(timeout=30)
    assert server.process.returncode == 0, err
    assert "Traceback" not in err
    nodes = json.loads(cli(database_url, "nodes", "list", "--all", "--json").stdout)
    assert [(node["id"], node["state"]) for node in nodes] == [(node_id, "stopped")]
    runs = json.loads(cli(database_url, "runs", "--limit", "1000", "--json").stdout)
    assert all(run["outcome"] != "running" for run in runs)


@pytest.mark.slow
def test_sigint_waits_for_a_running_job(sqlite_url: str, tmp_path: Path, lines: Path) -> None:
    config = tmp_path / "slow.toml"
    config.write_text(
        "[engine]\npoll_interval = 0.05\n\n[[jobs]]\nid = 'slow'\n"
        "func = 'tests.jobs:append_line'\ntrigger = 'date'\n"
        f"args = ['{lines}', 'slow', 1.5]\n"
    )
    server = start_server(sqlite_url, config)
    eventually(lambda: "slow" in tags(lines), timeout=20)
    server.process.send_signal(signal.SIGINT)
    _, err = server.process.communicate(timeout=30)
    assert server.process.returncode == 0, err
    runs = json.loads(cli(sqlite_url, "runs", "--job", "slow", "--json").stdout)
    assert [run["outcome"] for run in runs] == ["succeeded"]


def test_serve_beyond_loopback_without_auth_is_refused(sqlite_url: str) -> None:
    result = cli(sqlite_url, "serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "beyond loopback, without authentication" in result.stderr
    assert "--allow-insecure" in result.stderr
    assert "Traceback" not in result.stderr
    nodes = json.loads(cli(sqlite_url, "nodes", "list", "--all", "--json", "--create").stdout)
    assert nodes == []  # refused before joining the cluster


@pytest.mark.slow
def test_serve_refuses_every_traversal_of_the_issue(
    database_url: str, tmp_path: Path, lines: Path
) -> None:
    config = tmp_path / "refs.toml"
    config.write_text(
        'allowed_callables = ["tests.refjobs.jobs:*"]\n[engine]\npoll_interval = 0.05\n'
    )
    running = start_server(database_url, config)
    try:
        marker = tmp_path / "pwned"
        forms = ["os.system", "subprocess.check_output", "sys.exit", "__dict__.update",
                 "__builtins__.pop", "notify.__globals__.update"]  # fmt: skip
        body: dict[str, Any] = {
            "trigger": "date",
            "args": [f"touch {marker}"],
            "kwargs": {"WEBHOOK_URL": "x"},
        }
        for form in forms:
            func = f"tests.refjobs.jobs:{form}"
            posted = requests.post(f"{running.api}/jobs", json={"id": "e", "func": func, **body},
                                   timeout=10)  # fmt: skip
            assert (posted.status_code, posted.json()["field"]) == (403, "func"), form
        sentinel = {"id": "s", "func": "tests.refjobs.jobs:notify", "args": ["s"]}
        assert requests.post(f"{running.api}/jobs", json=sentinel, timeout=10).status_code == 200

        def result() -> object:
            runs = requests.get(f"{running.api}/runs?job_id=s", timeout=10).json()
            return runs and runs[0]["outcome"] == "succeeded" and runs[0]["result"]

        assert eventually(result, timeout=20) == '"https://hooks.example/tickwork s"'
        assert not marker.exists()
        assert running.process.poll() is None
    finally:
        running.process.kill()
        running.process.communicate(timeout=30)


def test_serve_refuses_a_bad_allow_list_pattern_with_exit_2(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('allowed_callables = ["*:*"]\n')
    result = cli(sqlite_url, "serve", "--port", "0", "--config", str(config))
    assert result.returncode == 2
    assert "'*:*'" in result.stderr


@pytest.mark.parametrize("password", ["", "short"])
def test_serve_refuses_a_weak_basic_password_with_exit_2(
    sqlite_url: str, tmp_path: Path, password: str
) -> None:
    config = tmp_path / "tickwork.toml"
    config.write_text(f'[auth]\nbasic_users = {{ admin = "{password}" }}\n')
    result = cli(sqlite_url, "serve", "--port", "0", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "auth.basic_users.admin: the password is" in result.stderr
    assert "at least 12 characters" in result.stderr
    assert "Traceback" not in result.stderr
    nodes = json.loads(cli(sqlite_url, "nodes", "list", "--all", "--json", "--create").stdout)
    assert nodes == []  # refused before joining the cluster
