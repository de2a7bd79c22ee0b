"""What every benchmark shares: fresh databases, child processes, the two libraries'
schedulers side by side, measuring helpers, medians and the results writer.

Scenario modules (``bench/scenarios/``) measure; the runners ``bench_engine.py`` and
``bench_cluster.py`` plan the cases, run them through this harness and write the report.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import math
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
LIBS = ("tickwork", "apscheduler")
LIB_TITLES = {"tickwork": "tickwork", "apscheduler": "APScheduler 3.11"}
Metrics = dict[str, Any]


@dataclass
class Record:
    """One child run's outcome, as written to the raw results file."""

    scenario: str
    variant: str
    lib: str
    backend: str
    repeat: int
    params: dict[str, Any]
    wall_s: float = 0.0
    metrics: Metrics = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Metric:
    """A row of the table: which metric, how to label it, and which direction is better."""

    key: str
    label: str
    higher_is_better: bool | None  # None: no ratio (counts, tickwork-only figures)
    digits: int = 1


@contextlib.contextmanager
def fresh_database(backend: str, admin_url: str | None) -> Iterator[str]:
    """Yield the URL of a new, empty database and remove it afterwards.

    Every run gets its own so that no run sees another's rows, indexes or bloat.
    """
    if backend == "sqlite":
        directory = tempfile.mkdtemp(prefix="tickwork-bench-")
        try:
            yield f"sqlite:///{directory}/bench.sqlite"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    assert admin_url is not None
    name = f"bench_{secrets.token_hex(6)}"
    admin = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def aps_url(url: str) -> str:
    """APScheduler's SQLAlchemyJobStore needs the driver spelled out for psycopg 3."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def run_child(
    script: Path, kind: str, lib: str, url: str, params: dict[str, Any], timeout: float
) -> Metrics:
    """Run one measurement as ``script --child SPEC`` in a fresh interpreter; raise
    RuntimeError with its stderr tail."""
    spec = json.dumps({"kind": kind, "lib": lib, "url": url, "params": params})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [sys.executable, str(script), "--child", spec],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        tail = output_tail(exc.stderr)
        raise RuntimeError(
            f"{kind}/{lib}: child killed after {timeout:.0f} s timeout\n{tail}"
        ) from None
    result_lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not result_lines:
        raise RuntimeError(f"{kind}/{lib}: exit code {proc.returncode}\n{output_tail(proc.stderr)}")
    metrics: Metrics = json.loads(result_lines[-1].removeprefix("RESULT "))
    if metrics.get("error"):
        raise RuntimeError(f"{kind}/{lib}: {metrics['error']}\n{output_tail(proc.stderr)}")
    return metrics


def output_tail(stderr: str | bytes | None, limit: int = 4000) -> str:
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return (stderr or "")[-limit:]


def median_metric(records: list[Record], key: str) -> tuple[float | None, int, int]:
    """Median over the successful runs that have the metric, how many did, and how many ran.

    A metric that no successful run reports (tickwork-only rows) is "n/a", not an error.
    """
    values = [r.metrics[key] for r in records if not r.error and r.metrics.get(key) is not None]
    without = sum(1 for r in records if not r.error and r.metrics.get(key) is None)
    return (statistics.median(values) if values else None), len(values), len(records) - without


def cell(value: float | None, ok: int, total: int, digits: int) -> str:
    if value is None:
        return "error" if total > 0 else "n/a"
    text = f"{value:,.{digits}f}"
    return text if ok == total else f"{text} ({ok}/{total} ok)"


def ratio(metric: Metric, ours: float | None, theirs: float | None) -> str:
    if metric.higher_is_better is None or ours is None or theirs is None:
        return "—"
    numerator, denominator = (ours, theirs) if metric.higher_is_better else (theirs, ours)
    if denominator == 0:
        return "∞" if numerator > 0 else "—"
    return f"{numerator / denominator:.2f}x"


def error_lines(records: list[Record]) -> list[str]:
    """The report's section listing failed runs with their output."""
    lines: list[str] = []
    errors = [r for r in records if r.error]
    if errors:
        lines += ["### errors", ""]
        for r in errors:
            lines += [f"- {r.scenario} {r.variant} {r.lib} {r.backend} #{r.repeat + 1}:", "```"]
            lines += [r.error or "", "```"]
    return lines


def write_results(
    records: list[Record],
    report: str,
    args: argparse.Namespace,
    elapsed: float,
    name: str = "engine",
) -> Path:
    """Raw records as JSON next to the markdown report, both named ``name-timestamp``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raw = {
        "started": stamp,
        "args": vars(args),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "elapsed_s": elapsed,
        "records": [asdict(r) for r in records],
    }
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps(raw, indent=1, default=str))
    (RESULTS_DIR / f"{name}-{stamp}.md").write_text(report)
    return path


def rss_mb() -> float:
    """Current resident set size, after a collection so garbage does not count."""
    import psutil

    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


def peak_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: simple and exact for the small samples used here."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def lateness_metrics(lateness_s: list[float]) -> Metrics:
    if not lateness_s:
        return {"lateness_p50_ms": None, "lateness_p99_ms": None, "lateness_max_ms": None}
    return {
        "lateness_p50_ms": percentile(lateness_s, 0.50) * 1000,
        "lateness_p99_ms": percentile(lateness_s, 0.99) * 1000,
        "lateness_max_ms": max(lateness_s) * 1000,
    }


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def quiet_logging() -> None:
    """Both libraries log a warning per missed fire; 10k lines on stderr would skew timing."""
    logging.basicConfig(level=logging.ERROR)


def tw_scheduler(url: str) -> Any:
    from tickwork import Scheduler

    return Scheduler(url, timezone="UTC")


def aps_scheduler(url: str) -> Any:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=aps_url(url))}, timezone="UTC"
    )


def stop(scheduler: Any, wait: bool = True) -> None:
    """Shut down; tickwork also needs close(), or its PostgreSQL LISTEN thread keeps running."""
    scheduler.shutdown(wait=wait)
    if hasattr(scheduler, "close"):
        scheduler.close()


def preload(lib: str) -> None:
    """Import the library up front so that timed sections do not include import time."""
    if lib == "tickwork":
        import tickwork.store.postgres
        import tickwork.store.sqlite  # noqa: F401
    else:
        import apscheduler.jobstores.sqlalchemy
        import apscheduler.schedulers.background  # noqa: F401
