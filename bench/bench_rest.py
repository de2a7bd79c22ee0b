"""REST benchmark: tickwork's API vs Flask-APScheduler 1.13, both served by waitress.

Each library's Flask app runs in this process behind waitress on a free loopback port,
one library at a time; a keep-alive ``http.client`` connection sends requests one after
another and times each. Flask-APScheduler runs its default (memory) job store, started
paused so nothing fires; tickwork its embedded default, a SQLite file (``--backend
postgresql`` uses ``TICKWORK_TEST_POSTGRES_URL``).

Cases: GET one job (from 1k stored), GET every job with 1k stored, GET with 10k stored
(Flask-APScheduler: all 10k; tickwork: a page of 100 via ``?limit=100``, its answer to
big listings), POST a new job. ``ratio`` > 1 means tickwork is better (requests/s:
tickwork / FA; latency: FA / tickwork). Targets from the issue: GET one job >= 2x, a page of
100 from 10k <= 10 ms median.

Run: ``.venv/bin/python bench/bench_rest.py [--quick]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import waitress.server
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.harness import RESULTS_DIR  # noqa: E402
from bench.scenarios.jobspecs import JOB_REF  # noqa: E402

FAR = "2099-01-01T00:00:00+00:00"

Request = Callable[[int], tuple[str, str, bytes | None]]


def _job(index: int, prefix: str = "job") -> dict[str, Any]:
    return {
        "id": f"{prefix}-{index:06d}",
        "func": JOB_REF,
        "trigger": "date",
        "run_date": FAR,
        "args": [index],
    }


def tickwork_app(url: str, jobs: int) -> tuple[Flask, Callable[[], None]]:
    from tickwork.flask import APScheduler

    app = Flask("tickwork_bench")
    app.config.update(
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_DATABASE_URL=url,
        SCHEDULER_TIMEZONE="UTC",
        SCHEDULER_ALLOWED_CALLABLES=["bench.jobs:*"],
    )
    scheduler = APScheduler(app=app)
    scheduler.remove_all_jobs()
    scheduler.add_jobs([_job(index) for index in range(jobs)])
    scheduler.start(paused=True)
    return app, scheduler.scheduler.close


def flask_apscheduler_app(jobs: int) -> tuple[Flask, Callable[[], None]]:
    from flask_apscheduler import APScheduler

    app = Flask("flask_apscheduler_bench")
    app.config.update(SCHEDULER_API_ENABLED=True, SCHEDULER_TIMEZONE="UTC")
    scheduler = APScheduler(app=app)
    scheduler.start(paused=True)
    for index in range(jobs):
        spec = _job(index)
        scheduler.add_job(spec.pop("id"), spec.pop("func"), **spec)
    return app, lambda: scheduler.shutdown(wait=False)


@contextmanager
def serve(app: Flask) -> Iterator[int]:
    """Serve ``app`` with waitress (4 threads, its default) on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = waitress.server.create_server(app, host="127.0.0.1", port=port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        time.sleep(0.2)  # let the last response's task finish before the sockets close
        server.close()
        thread.join(5)


def measure(port: int, request: Request, count: int) -> dict[str, float]:
    """Send ``count`` requests on one keep-alive connection; requests/s and median ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        method, path, body = request(index)
        sent = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - sent)
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status}")
    elapsed = time.perf_counter() - started
    connection.close()
    return {
        "requests_per_s": count / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "requests": count,
    }


def run_library(
    name: str, build: Callable[[int], tuple[Flask, Callable[[], None]]], counts: dict[str, int]
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    list_path = "/scheduler/jobs?limit=100" if name == "tickwork" else "/scheduler/jobs"
    for stored in (1000, 10_000):
        app, close = build(stored)
        try:
            with serve(app) as port:
                if stored == 1000:
                    results["get_one_job"] = measure(
                        port,
                        lambda i: ("GET", f"/scheduler/jobs/job-{i % 1000:06d}", None),
                        counts["get_one_job"],
                    )
                    results["get_jobs_1k"] = measure(
                        port, lambda i: ("GET", "/scheduler/jobs", None), counts["get_jobs_1k"]
                    )
                    results["post_job"] = measure(
                        port,
                        lambda i: ("POST", "/scheduler/jobs", json.dumps(_job(i, "new")).encode()),
                        counts["post_job"],
                    )
                else:
                    results["get_jobs_10k"] = measure(
                        port, lambda i: ("GET", list_path, None), counts["get_jobs_10k"]
                    )
        finally:
            close()
    return results


CASES = {
    "get_one_job": "GET one job (1k stored)",
    "get_jobs_1k": "GET all jobs, 1k stored",
    "get_jobs_10k": "GET jobs, 10k stored (FA: all; tickwork: page of 100)",
    "post_job": "POST a job",
}


def table(ours: dict[str, dict[str, float]], theirs: dict[str, dict[str, float]]) -> str:
    lines = [
        "| case | tickwork req/s | FA 1.13 req/s | ratio | tickwork median ms "
        "| FA median ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case, title in CASES.items():
        a, b = ours[case], theirs[case]
        lines.append(
            f"| {title} | {a['requests_per_s']:.0f} | {b['requests_per_s']:.0f} "
            f"| {a['requests_per_s'] / b['requests_per_s']:.2f} | {a['median_ms']:.2f} "
            f"| {b['median_ms']:.2f} | {b['median_ms'] / a['median_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests per case")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    scale = 10 if options.quick else 1
    counts = {
        "get_one_job": 3000 // scale,
        "get_jobs_1k": 100 // scale,
        "get_jobs_10k": 30 // scale,
        "post_job": 1000 // scale,
    }
    with tempfile.TemporaryDirectory() as directory:
        if options.backend == "postgresql":
            url = os.environ["TICKWORK_TEST_POSTGRES_URL"]
        else:
            url = f"sqlite:///{directory}/bench.sqlite"
        ours = run_library("tickwork", lambda jobs: tickwork_app(url, jobs), counts)
    counts["get_jobs_10k"] = max(3, counts["get_jobs_10k"] // 3)
    theirs = run_library("flask_apscheduler", flask_apscheduler_app, counts)
    report = table(ours, theirs)
    print(f"REST API on waitress, tickwork ({options.backend}) vs Flask-APScheduler 1.13\n")
    print(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raw = {"backend": options.backend, "tickwork": ours, "flask_apscheduler": theirs}
    (RESULTS_DIR / f"rest-{stamp}.json").write_text(json.dumps(raw, indent=2))
    (RESULTS_DIR / f"rest-{stamp}.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
