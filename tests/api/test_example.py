"""The example app, run unchanged in its own process behind a real server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import eventually

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobs.py"

#: Runs the example as ``python examples/jobs.py`` would, but with ``app.run()`` serving
#: through waitress on a free loopback port instead of Flask's development server.
LAUNCHER = """
import runpy, sys, flask, waitress
port = int(sys.argv[2])
flask.Flask.run = lambda app, **options: waitress.serve(app, host="127.0.0.1", port=port)
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def example_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE.parent)}
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(EXAMPLE), str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/scheduler"
    try:
        eventually(lambda: _answers(url) or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        yield url
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def test_the_quick_start_serves_its_configured_job(example_url: str) -> None:
    info = requests.get(example_url, timeout=5).json()
    assert info["running"] is True
    [job] = requests.get(f"{example_url}/jobs", timeout=5).json()
    assert (job["id"], job["func"], job["args"], job["seconds"]) == (
        "job1",
        "jobs:job1",
        [1, 2],
        10,
    )

    assert requests.post(f"{example_url}/jobs/job1/run", timeout=5).status_code == 200
    runs = eventually(
        lambda: requests.get(f"{example_url}/jobs/job1/runs?outcome=succeeded", timeout=5).json()
    )
    assert runs[0]["manual"] is True

    refused = requests.post(
        f"{example_url}/jobs", json={"id": "x", "func": "os:system", "args": ["true"]}, timeout=5
    )
    assert refused.status_code == 403
    assert requests.get(f"{example_url}/openapi.json", timeout=5).json()["openapi"] == "3.1.0"
    assert requests.post(f"{example_url}/pause", timeout=5).status_code == 204
    assert requests.get(example_url, timeout=5).json()["is_paused"] is True
