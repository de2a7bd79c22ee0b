"""Engine benchmark: tickwork vs APScheduler 3.11 on SQLite files and PostgreSQL.

APScheduler runs as BackgroundScheduler + SQLAlchemyJobStore + its default
ThreadPoolExecutor (10 workers); tickwork as ``Scheduler(url)`` with its defaults. Each
scenario x library x backend x repeat runs in its own child process on a fresh database, so
imports, caches and RSS never leak between runs. The parent prints a markdown table of
medians and ratios (>1 means tickwork is better) and writes raw results to bench/results/.

Run: ``scripts/with-postgres .venv/bin/python bench/bench_engine.py [--quick]``
(see bench/README.md).
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
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
JOB_REF = "bench.jobs:mark"
LIBS = ("tickwork", "apscheduler")
LIB_TITLES = {"tickwork": "tickwork", "apscheduler": "APScheduler 3.11"}
SCENARIOS = (
    "add_one_by_one",
    "add_bulk",
    "due_at_once_1k",
    "due_at_once_10k",
    "single_due_latency",
    "startup_100k",
)
#: Longest wait for a due-at-once run to settle (every job executed or missed).
SETTLE_TIMEOUT = 120.0
#: Seconds from now at which the latency scenario's job is due.
LATENCY_LEAD = 0.3

Metrics = dict[str, Any]


# -- plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One sized case of a scenario, run for each library, backend and repeat."""

    scenario: str
    label: str
    params: dict[str, Any]
    libs: tuple[str, ...] = LIBS
    timeout: float = 900.0


def plan_variants(scenarios: list[str], quick: bool) -> list[Variant]:
    """The cases to run; ``--quick`` divides every size by ten to check the suite end to end."""
    scale = 10 if quick else 1
    k10, k100 = 10_000 // scale, 100_000 // scale
    fires = 10 if quick else 30  # lateness percentiles need more than 1/10 of 30 samples
    cases: dict[str, list[Variant]] = {
        "add_one_by_one": [Variant("add_one_by_one", f"{k10:,}", {"n": k10})],
        "add_bulk": [
            Variant("add_bulk", f"{k10:,}", {"n": k10}, libs=("tickwork",)),
            Variant("add_bulk", f"{k100:,}", {"n": k100}, libs=("tickwork",)),
        ],
        "due_at_once_1k": [Variant("due_at_once_1k", f"{1000 // scale:,}", {"n": 1000 // scale})],
        "due_at_once_10k": [Variant("due_at_once_10k", f"{k10:,}", {"n": k10})],
        "single_due_latency": [Variant("single_due_latency", f"{fires} fires", {"count": fires})],
        "startup_100k": [
            Variant("startup_100k", f"{k10:,}", {"n": k10}),
            Variant("startup_100k", f"{k100:,}", {"n": k100}),
        ],
    }
    variants = [variant for name in scenarios for variant in cases[name]]
    if "add_bulk" in scenarios and "add_one_by_one" not in scenarios:
        # add_bulk compares against APScheduler's one-by-one rate: APScheduler has no bulk API.
        variants.insert(0, Variant("add_one_by_one", f"{k10:,}", {"n": k10}, libs=("apscheduler",)))
    return variants


# -- databases -------------------------------------------------------------------------------


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


# -- parent: running children ----------------------------------------------------------------


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


def run_child(kind: str, lib: str, url: str, params: dict[str, Any], timeout: float) -> Metrics:
    """Run one measurement in a fresh interpreter; raise RuntimeError with its stderr tail."""
    spec = json.dumps({"kind": kind, "lib": lib, "url": url, "params": params})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", spec],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        tail = _tail(exc.stderr)
        raise RuntimeError(
            f"{kind}/{lib}: child killed after {timeout:.0f} s timeout\n{tail}"
        ) from None
    result_lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not result_lines:
        raise RuntimeError(f"{kind}/{lib}: exit code {proc.returncode}\n{_tail(proc.stderr)}")
    metrics: Metrics = json.loads(result_lines[-1].removeprefix("RESULT "))
    if metrics.get("error"):
        raise RuntimeError(f"{kind}/{lib}: {metrics['error']}\n{_tail(proc.stderr)}")
    return metrics


def _tail(stderr: str | bytes | None, limit: int = 4000) -> str:
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return (stderr or "")[-limit:]


def run_variant(
    variant: Variant, lib: str, backend: str, repeat: int, admin_url: str | None
) -> Record:
    """Measure one case on a fresh database; a failure becomes an error record, not a crash."""
    record = Record(variant.scenario, variant.label, lib, backend, repeat, variant.params)
    began = time.perf_counter()
    try:
        with fresh_database(backend, admin_url) as url:
            kind = _child_kind(variant.scenario)
            if kind == "startup":
                fill = run_child("fill", lib, url, variant.params, variant.timeout)
                record.metrics["fill_s"] = fill["fill_s"]
            record.metrics.update(run_child(kind, lib, url, variant.params, variant.timeout))
    except Exception as exc:  # recorded and reported; the suite goes on
        record.error = str(exc)
    record.wall_s = time.perf_counter() - began
    return record


def _child_kind(scenario: str) -> str:
    if scenario.startswith("due_at_once"):
        return "due_at_once"
    if scenario == "startup_100k":
        return "startup"
    return scenario


def run_suite(args: argparse.Namespace) -> list[Record]:
    """Every case x backend x repeat, alternating libraries so drift in machine load hits both."""
    admin_url = os.environ.get("TICKWORK_TEST_POSTGRES_URL")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not admin_url:
        sys.exit("PostgreSQL needs TICKWORK_TEST_POSTGRES_URL: run under scripts/with-postgres")
    records = []
    for backend in backends:
        for variant in plan_variants(args.scenario, args.quick):
            for repeat in range(args.repeat):
                for lib in variant.libs:
                    record = run_variant(variant, lib, backend, repeat, admin_url)
                    records.append(record)
                    _progress(record)
    return records


def _progress(record: Record) -> None:
    status = "ERROR" if record.error else "ok"
    print(
        f"[{record.backend}] {record.scenario} {record.variant} {record.lib} "
        f"#{record.repeat + 1}: {status} ({record.wall_s:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    if record.error:
        print(record.error, file=sys.stderr, flush=True)


# -- parent: the report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A row of the table: which metric, how to label it, and which direction is better."""

    key: str
    label: str
    higher_is_better: bool | None  # None: no ratio (counts, tickwork-only figures)
    digits: int = 1


ADD_METRICS = [Metric("jobs_per_s", "jobs/s", True, 0)]
DUE_METRICS = [
    Metric("fires_per_s", "fires/s", True, 0),
    Metric("lateness_p50_ms", "lateness p50 (ms)", False),
    Metric("lateness_p99_ms", "lateness p99 (ms)", False),
    Metric("lateness_max_ms", "lateness max (ms)", False),
    Metric("executed", "executed", None, 0),
    Metric("missed", "missed", None, 0),
]
LATENCY_METRICS = [
    Metric("lateness_p50_ms", "lateness p50 (ms)", False),
    Metric("lateness_p99_ms", "lateness p99 (ms)", False),
    Metric("lateness_max_ms", "lateness max (ms)", False),
]
STARTUP_METRICS = [
    Metric("start_s", "construct + start() (s)", False, 3),
    Metric("get_jobs_s", "get_jobs() (s)", False, 2),
    Metric("iter_jobs_s", "iter_jobs() (s, tickwork only)", None, 2),
    Metric("rss_start_mb", "RSS after start (MB)", False),
    Metric("rss_iter_mb", "RSS after iter_jobs (MB, tickwork only)", None),
    Metric("rss_get_jobs_mb", "RSS after get_jobs (MB)", False),
    Metric("peak_iter_mb", "peak RSS after iter_jobs (MB, tickwork only)", None),
    Metric("peak_mb", "peak RSS after get_jobs (MB)", False),
]
METRICS = {
    "add_one_by_one": ADD_METRICS,
    "add_bulk": ADD_METRICS,
    "due_at_once_1k": DUE_METRICS,
    "due_at_once_10k": DUE_METRICS,
    "single_due_latency": LATENCY_METRICS,
    "startup_100k": STARTUP_METRICS,
}
NOTES = {
    "add_one_by_one": "add_job() one by one on a scheduler started paused, interval jobs.",
    "add_bulk": (
        "tickwork add_jobs() in one transaction. APScheduler has no bulk API: its column "
        "repeats its one-by-one rate from add_one_by_one."
    ),
    "due_at_once_1k": "N date jobs due at the same instant T; lateness = job start - T.",
    "due_at_once_10k": "N date jobs due at the same instant T; lateness = job start - T.",
    "single_due_latency": "idle scheduler, one date job due 0.3 s after adding it, repeated.",
    "startup_100k": (
        "store pre-filled with N interval jobs; fresh process constructs and starts the "
        "scheduler, then lists every job."
    ),
}


def median_metric(records: list[Record], key: str) -> tuple[float | None, int, int]:
    """Median over the successful runs that have the metric, how many did, and how many ran.

    A metric that no successful run reports (tickwork-only rows) is "n/a", not an error.
    """
    values = [r.metrics[key] for r in records if not r.error and r.metrics.get(key) is not None]
    without = sum(1 for r in records if not r.error and r.metrics.get(key) is None)
    return (statistics.median(values) if values else None), len(values), len(records) - without


def _cell(value: float | None, ok: int, total: int, digits: int) -> str:
    if value is None:
        return "error" if total > 0 else "n/a"
    text = f"{value:,.{digits}f}"
    return text if ok == total else f"{text} ({ok}/{total} ok)"


def _ratio(metric: Metric, ours: float | None, theirs: float | None) -> str:
    if metric.higher_is_better is None or ours is None or theirs is None:
        return "—"
    numerator, denominator = (ours, theirs) if metric.higher_is_better else (theirs, ours)
    if denominator == 0:
        return "∞" if numerator > 0 else "—"
    return f"{numerator / denominator:.2f}x"


def scenario_table(scenario: str, records: list[Record]) -> list[str]:
    """Rows ``metric | backend | tickwork | APScheduler | ratio`` for one scenario."""
    lines = [
        f"### {scenario}",
        "",
        NOTES[scenario],
        "",
        "| metric | backend | tickwork | APScheduler 3.11 | ratio |",
        "|---|---|---|---|---|",
    ]
    mine = [r for r in records if r.scenario == scenario]
    for variant in dict.fromkeys(r.variant for r in mine):
        for metric in METRICS[scenario]:
            for backend in dict.fromkeys(r.backend for r in mine):
                lines.append(_row(scenario, variant, metric, backend, records))
    return [*lines, ""]


def _row(scenario: str, variant: str, metric: Metric, backend: str, records: list[Record]) -> str:
    def pick(lib: str, name: str, label: str | None) -> list[Record]:
        return [
            r
            for r in records
            if r.scenario == name
            and r.lib == lib
            and r.backend == backend
            and (label is None or r.variant == label)
        ]

    ours = median_metric(pick("tickwork", scenario, variant), metric.key)
    if scenario == "add_bulk":
        theirs = median_metric(pick("apscheduler", "add_one_by_one", None), metric.key)
    else:
        theirs = median_metric(pick("apscheduler", scenario, variant), metric.key)
    label = f"{metric.label}, N={variant}"
    if scenario == "add_bulk":
        sizes = ", ".join(
            dict.fromkeys(r.variant for r in pick("apscheduler", "add_one_by_one", None))
        )
        label += f" (APScheduler: one by one, N={sizes or '?'})"
    return (
        f"| {label} | {backend} | {_cell(*ours, metric.digits)} | "
        f"{_cell(*theirs, metric.digits)} | {_ratio(metric, ours[0], theirs[0])} |"
    )


def render_report(records: list[Record], args: argparse.Namespace, elapsed: float) -> str:
    """The markdown report: header, one table per scenario, then every error in full."""
    lines = [
        f"## tickwork engine benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Medians of {args.repeat} run(s){' (--quick sizes)' if args.quick else ''}; "
        f"ratio > 1 means tickwork is better. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared, noisy). Suite wall time {elapsed / 60:.1f} min.",
        "",
    ]
    for scenario in SCENARIOS:
        if any(r.scenario == scenario for r in records) and (
            scenario in args.scenario or scenario != "add_one_by_one"
        ):
            lines.extend(scenario_table(scenario, records))
    lines += error_lines(records)
    return "\n".join(lines) + "\n"


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


# -- children: shared helpers ----------------------------------------------------------------


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


def interval_spec(i: int) -> dict[str, Any]:
    """A job that will not fire during the benchmark: add cost without execution noise."""
    return {
        "id": f"job-{i:06d}",
        "func": JOB_REF,
        "trigger": "interval",
        "seconds": 3600,
        "args": [i],
    }


def date_spec(i: int, run_date: datetime, prefix: str = "due") -> dict[str, Any]:
    return {
        "id": f"{prefix}-{i:06d}",
        "func": JOB_REF,
        "trigger": "date",
        "run_date": run_date,
        "args": [i],
    }


def add_one_by_one(scheduler: Any, specs: list[dict[str, Any]]) -> float:
    """Seconds to add the jobs with one add_job() call each (same call shape in both libraries)."""
    began = time.perf_counter()
    for spec in specs:
        options = dict(spec)
        scheduler.add_job(options.pop("func"), id=options.pop("id"), **options)
    return time.perf_counter() - began


def tw_add_one_by_one(scheduler: Any, specs: list[dict[str, Any]]) -> float:
    began = time.perf_counter()
    for spec in specs:
        options = dict(spec)
        scheduler.add_job(options.pop("id"), options.pop("func"), **options)
    return time.perf_counter() - began


def tw_add_bulk(scheduler: Any, specs: list[dict[str, Any]]) -> float:
    began = time.perf_counter()
    scheduler.add_jobs(specs)
    return time.perf_counter() - began


# -- children: scenarios ---------------------------------------------------------------------


def child_add_one_by_one(lib: str, url: str, n: int) -> Metrics:
    """Adds hit the store in both: APScheduler only stores jobs once started (here paused)."""
    specs = [interval_spec(i) for i in range(n)]
    if lib == "tickwork":
        scheduler = tw_scheduler(url)
        scheduler.start(paused=True)
        seconds = tw_add_one_by_one(scheduler, specs)
        stored = scheduler.count_jobs()
    else:
        scheduler = aps_scheduler(url)
        scheduler.start(paused=True)
        seconds = add_one_by_one(scheduler, specs)
        stored = len(scheduler.get_jobs())
    stop(scheduler)
    if stored != n:
        return {"error": f"stored {stored} jobs, expected {n}"}
    return {"jobs_per_s": n / seconds, "seconds": seconds}


def child_add_bulk(lib: str, url: str, n: int) -> Metrics:
    if lib != "tickwork":
        return {"error": "APScheduler has no bulk add API"}
    specs = [interval_spec(i) for i in range(n)]
    scheduler = tw_scheduler(url)
    scheduler.start(paused=True)
    seconds = tw_add_bulk(scheduler, specs)
    stored = scheduler.count_jobs()
    stop(scheduler)
    if stored != n:
        return {"error": f"stored {stored} jobs, expected {n}"}
    return {"jobs_per_s": n / seconds, "seconds": seconds}


def child_due_at_once(lib: str, url: str, n: int) -> Metrics:
    """N jobs due at one instant T: throughput and lateness of the burst, and what was missed.

    T must fall after the last add, or early jobs would fire while later ones are still being
    added. The add rate is measured on a throwaway batch first and T set 1.5x the expected add
    time plus a second ahead; a run whose adds overran T is reported as an error.
    """
    from bench import jobs

    if lib == "tickwork":
        from tickwork.events import EVENT_JOB_MISSED as TW_JOB_MISSED

        scheduler = tw_scheduler(url)
        scheduler.add_listener(lambda event: jobs.record_missed(event.job_id), TW_JOB_MISSED)
        scheduler.start()
        add: Callable[[Any, list[dict[str, Any]]], float] = tw_add_bulk
    else:
        from apscheduler.events import EVENT_JOB_MISSED

        scheduler = aps_scheduler(url)
        scheduler.add_listener(lambda event: jobs.record_missed(event.job_id), EVENT_JOB_MISSED)
        scheduler.start(paused=True)
        add = add_one_by_one
    sample = max(50, n // 10)
    far = utc(time.time() + 86_400)
    sample_s = add(scheduler, [date_spec(i, far, "cal") for i in range(sample)])
    scheduler.remove_all_jobs()
    lead = max(2.0, 1.5 * sample_s * n / sample + 1.0)
    due = time.time() + lead
    add_s = add(scheduler, [date_spec(i, utc(due)) for i in range(n)])
    added_at = time.time()
    if lib == "apscheduler":
        scheduler.resume()
    if added_at >= due:
        stop(scheduler, wait=False)
        return {"error": f"adding {n} jobs took {add_s:.1f} s and overran T (lead {lead:.1f} s)"}
    settled = jobs.wait_settled(n, SETTLE_TIMEOUT + lead)
    scheduler.shutdown(wait=True)
    starts = [started for _, started in jobs.STARTS]
    executed = len(starts)
    metrics: Metrics = {
        "executed": executed,
        "missed": len(jobs.MISSED),
        "settled": settled,
        "add_s": add_s,
        "lead_s": lead,
        "margin_s": due - added_at,
        "fires_per_s": executed / (max(starts) - due) if executed and max(starts) > due else None,
        **lateness_metrics([started - due for started in starts]),
    }
    if lib == "tickwork":
        metrics["missed_in_history"] = count_missed_runs(scheduler)
        scheduler.close()
    return metrics


def count_missed_runs(scheduler: Any) -> int:
    """tickwork's own record of missed fires, paged because get_runs caps at 10,000 rows."""
    total, before = 0, None
    while True:
        page = scheduler.get_runs(outcome="missed", limit=10_000, before=before)
        total += len(page)
        if len(page) < 10_000:
            return total
        before = page[-1].id


def child_single_due_latency(lib: str, url: str, count: int) -> Metrics:
    """How late an idle scheduler starts a lone job: the wake-up path, not throughput."""
    from bench import jobs

    if lib == "tickwork":
        scheduler = tw_scheduler(url)
        scheduler.start()
    else:
        scheduler = aps_scheduler(url)
        scheduler.start()
    lateness, timeouts = [], 0
    for k in range(count):
        jobs.reset()
        due = time.time() + LATENCY_LEAD
        spec = date_spec(k, utc(due), "lat")
        if lib == "tickwork":
            tw_add_one_by_one(scheduler, [spec])
        else:
            add_one_by_one(scheduler, [spec])
        if jobs.wait_settled(1, 10.0) and jobs.STARTS:
            lateness.append(jobs.STARTS[0][1] - due)
        else:
            timeouts += 1
        time.sleep(0.1)  # let the previous fire's bookkeeping finish before the next one
    stop(scheduler)
    return {"fires": len(lateness), "timeouts": timeouts, **lateness_metrics(lateness)}


def child_fill(lib: str, url: str, n: int) -> Metrics:
    """Pre-fill the store for the startup scenario (not timed in the comparison).

    APScheduler's rows are built exactly as SQLAlchemyJobStore.add_job builds them (same Job
    state, same pickle protocol) but inserted in batches: one transaction per job would spend
    minutes on setup that the scenario does not measure.
    """
    began = time.perf_counter()
    if lib == "tickwork":
        scheduler = tw_scheduler(url)
        for first in range(0, n, 10_000):
            scheduler.add_jobs([interval_spec(i) for i in range(first, min(n, first + 10_000))])
        stored = scheduler.count_jobs()
        scheduler.close()
    else:
        stored = aps_fill(url, n)
    if stored != n:
        return {"error": f"fill stored {stored} jobs, expected {n}"}
    return {"fill_s": time.perf_counter() - began}


def aps_fill(url: str, n: int) -> int:
    import pickle

    from apscheduler.job import Job
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.triggers.interval import IntervalTrigger
    from apscheduler.util import datetime_to_utc_timestamp
    from sqlalchemy import func, select

    from bench.jobs import mark

    store = SQLAlchemyJobStore(url=aps_url(url))
    store.start(None, "default")
    now = datetime.now(UTC)
    owner = types.SimpleNamespace(timezone=UTC)  # Job only asks its scheduler for the zone
    for first in range(0, n, 5_000):
        rows = []
        for i in range(first, min(n, first + 5_000)):
            trigger = IntervalTrigger(seconds=3600, timezone=UTC)
            job = Job(
                owner,
                id=f"job-{i:06d}",
                func=mark,
                trigger=trigger,
                executor="default",
                args=(i,),
                kwargs={},
                name="mark",
                misfire_grace_time=1,
                coalesce=True,
                max_instances=1,
                next_run_time=trigger.get_next_fire_time(None, now),
            )
            state = pickle.dumps(job.__getstate__(), store.pickle_protocol)
            rows.append(
                {
                    "id": job.id,
                    "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                    "job_state": state,
                }
            )
        with store.engine.begin() as conn:
            conn.execute(store.jobs_t.insert(), rows)
    with store.engine.begin() as conn:
        stored = conn.execute(select(func.count()).select_from(store.jobs_t)).scalar_one()
    store.shutdown()
    return int(stored)


def child_startup(lib: str, url: str, n: int) -> Metrics:
    """Cold start on a big store, then listing it: time and memory, in a process of its own.

    tickwork's iter_jobs runs before get_jobs so that its peak RSS is not masked by the
    full list (ru_maxrss only grows).
    """
    preload(lib)
    metrics: Metrics = {"rss_baseline_mb": rss_mb()}
    began = time.perf_counter()
    scheduler = tw_scheduler(url) if lib == "tickwork" else aps_scheduler(url)
    scheduler.start()
    metrics["start_s"] = time.perf_counter() - began
    metrics["rss_start_mb"] = rss_mb()
    metrics["peak_start_mb"] = peak_mb()
    if lib == "tickwork":
        began = time.perf_counter()
        listed = sum(1 for _ in scheduler.iter_jobs(page_size=1000))
        metrics["iter_jobs_s"] = time.perf_counter() - began
        metrics["rss_iter_mb"] = rss_mb()
        metrics["peak_iter_mb"] = peak_mb()
        if listed != n:
            return {"error": f"iter_jobs listed {listed} jobs, expected {n}"}
    began = time.perf_counter()
    job_list = scheduler.get_jobs()
    metrics["get_jobs_s"] = time.perf_counter() - began
    metrics["rss_get_jobs_mb"] = rss_mb()
    metrics["peak_mb"] = peak_mb()
    if len(job_list) != n:
        return {"error": f"get_jobs listed {len(job_list)} jobs, expected {n}"}
    del job_list
    stop(scheduler)
    return metrics


CHILDREN: dict[str, Callable[..., Metrics]] = {
    "add_one_by_one": child_add_one_by_one,
    "add_bulk": child_add_bulk,
    "due_at_once": child_due_at_once,
    "single_due_latency": child_single_due_latency,
    "fill": child_fill,
    "startup": child_startup,
}


def child_main(spec_json: str) -> None:
    """Entry point of a child: run one measurement and print it as one ``RESULT`` JSON line."""
    quiet_logging()
    spec = json.loads(spec_json)
    metrics = CHILDREN[spec["kind"]](spec["lib"], spec["url"], **spec["params"])
    metrics.setdefault("peak_rss_mb", peak_mb())
    print("RESULT " + json.dumps(metrics), flush=True)


# -- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/10 sizes, one run each")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, help="runs per case (default 3, --quick 1)")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return
    began = time.perf_counter()
    records = run_suite(args)
    elapsed = time.perf_counter() - began
    report = render_report(records, args, elapsed)
    path = write_results(records, report, args, elapsed)
    print(report)
    print(f"raw results: {path.relative_to(ROOT)} (+ .md)", file=sys.stderr)


if __name__ == "__main__":
    main()
