"""Cluster benchmark: several scheduler processes sharing one store, tickwork vs APScheduler 3.11.

Two scenarios, each run on fresh databases with real scheduler subprocesses:

- ``shared_store``: 3 processes share one store (SQLite file and PostgreSQL) holding 50
  interval jobs that fire every second for 20 s (``--quick``: 10 s), so exactly 1,000 (500)
  fires are expected. Counts duplicates, misses and lateness from what the job function
  wrote, plus tickwork's own run history.
- ``nodes_scaling`` (PostgreSQL, tickwork only): 10k date jobs (``--quick``: 2k) due at the
  same instant, run by 1, 2 and 3 node processes: fires/s, missed and lateness.

Run: ``scripts/with-postgres .venv/bin/python bench/bench_cluster.py [--quick] [--repeat N]``
(see bench/README.md).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import math
import os
import platform
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.bench_engine import (  # noqa: E402
    LIB_TITLES,
    LIBS,
    Metric,
    Metrics,
    Record,
    _cell,
    _ratio,
    _tail,
    aps_url,
    error_lines,
    fresh_database,
    lateness_metrics,
    median_metric,
    utc,
    write_results,
)
from bench.cluster_jobs import OUT_ENV  # noqa: E402

JOB_REF = "bench.cluster_jobs:append"
SCENARIOS = ("shared_store", "nodes_scaling")
#: Scheduler processes sharing the store in ``shared_store``.
PROCESSES = 3
#: Interval jobs in ``shared_store``.
INTERVAL_JOBS = 50
#: Seconds between the end of the parent's adds and the first fire (T0) in ``shared_store``:
#: room for the processes to start, which takes a few seconds on the shared 2-core machine.
SHARED_LEAD = 8.0
#: Seconds the processes keep running after the last scheduled fire.
STOP_GRACE = 3.0
#: Node counts of ``nodes_scaling``.
NODE_COUNTS = (1, 2, 3)
#: Longest wait for a process to say it is started, and to shut down when told to.
READY_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 60.0
#: Longest wait after T for a ``nodes_scaling`` burst to settle.
SETTLE_TIMEOUT = 120.0
#: A burst has settled when no process wrote a fire for this long (after T + grace).
QUIET_S = 2.0

# -- child processes -------------------------------------------------------------------------

_LIVE: set[Child] = set()


class Child:
    """One scheduler process. It prints ``READY <epoch>`` once started, stops when a line
    (or EOF) arrives on stdin, and prints ``RESULT <json>``. stderr goes to a log file."""

    def __init__(self, spec: dict[str, Any], out_path: Path, log_path: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env[OUT_ENV] = str(out_path)
        self.out_path = out_path
        self.log_path = log_path
        self._log: TextIO = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        _LIVE.add(self)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The payload of the next stdout line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(
                    f"child {self.proc.pid}: no {prefix} line after {timeout:.0f} s\n"
                    f"{self.log_tail()}"
                )
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait()
                raise RuntimeError(
                    f"child {self.proc.pid} exited ({code}) before {prefix}\n{self.log_tail()}"
                )
            if line.startswith(prefix + " "):
                return line.removeprefix(prefix + " ")

    def finish(self) -> Metrics:
        """Tell the process to shut down and return its result."""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
        metrics: Metrics = json.loads(self.wait_for("RESULT", SHUTDOWN_TIMEOUT))
        self.proc.wait(SHUTDOWN_TIMEOUT)
        self.close()
        return metrics

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self.close()

    def close(self) -> None:
        self._log.close()
        _LIVE.discard(self)

    def log_tail(self) -> str:
        self._log.flush()
        return _tail(self.log_path.read_text(errors="replace"))


def kill_all() -> None:
    for child in list(_LIVE):
        child.kill()


@contextlib.contextmanager
def children(count: int, spec: dict[str, Any], workdir: Path) -> Any:
    """Start ``count`` scheduler processes; kill whatever is still running on the way out."""
    started: list[Child] = []
    try:
        for index in range(count):
            started.append(
                Child(spec, workdir / f"fires-{index}.tsv", workdir / f"log-{index}.txt")
            )
        yield started
    finally:
        for child in started:
            child.kill()


def child_main(spec_json: str) -> None:
    """A scheduler process: start, report READY, run until told to stop, report RESULT."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    spec = json.loads(spec_json)
    result: Metrics = {}
    if spec["lib"] == "tickwork":
        from tickwork import Scheduler

        scheduler: Any = Scheduler(spec["url"], timezone="UTC")
        scheduler.start()
        result["node_id"] = scheduler.node_id
    else:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=aps_url(spec["url"]))}, timezone="UTC"
        )
        scheduler.start()
    print(f"READY {time.time()}", flush=True)
    sys.stdin.readline()  # a line from the parent, or EOF if the parent died
    began = time.perf_counter()
    scheduler.shutdown(wait=True)
    if hasattr(scheduler, "close"):
        scheduler.close()  # tickwork: release connections and the LISTEN thread
    result["shutdown_s"] = time.perf_counter() - began
    print("RESULT " + json.dumps(result), flush=True)


# -- measuring -------------------------------------------------------------------------------


def read_fires(paths: list[Path]) -> list[list[tuple[str, float]]]:
    """``(job_id, start epoch)`` per process, from the files the job function appended to."""
    fires = []
    for path in paths:
        rows = []
        if path.exists():
            for line in path.read_text().splitlines():
                job_id, _, started = line.partition("\t")
                rows.append((job_id, float(started)))
        fires.append(rows)
    return fires


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
    return total


def log_entries(text: str) -> list[list[str]]:
    """Split a log into entries: a record with its traceback, or a bare thread traceback."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        starts = bool(_LOG_RECORD.match(line)) or line.startswith("Exception in thread")
        if (
            line.startswith("Traceback")
            and entries
            and any(e.startswith("Traceback") for e in entries[-1])
        ):
            starts = True
        if starts or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    return entries


_LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def log_summary(paths: list[Path]) -> Metrics:
    """Warnings, errors and tracebacks the processes logged, with a few distinct samples
    (the record's line and, for a traceback, its final exception line)."""
    levels: Counter[str] = Counter()
    samples: dict[str, None] = {}
    aps_missed = 0
    for path in paths:
        for entry in log_entries(path.read_text(errors="replace")):
            head = entry[0]
            if "was missed by" in head:
                aps_missed += 1
                continue
            level = next((lv for lv in ("CRITICAL", "ERROR", "WARNING") if f" {lv} " in head), None)
            has_traceback = any(line.startswith("Traceback") for line in entry)
            if level is None and (has_traceback or head.startswith("Exception in thread")):
                level = "ERROR"
            if level is None:
                continue
            levels[level] += 1
            text = _LOG_RECORD.sub("", head)
            if has_traceback:
                text += " | " + next(
                    (line for line in reversed(entry) if line and not line[0].isspace()), ""
                )
            if len(samples) < 8:
                samples[text[:400]] = None
    return {
        "log_warnings": levels["WARNING"],
        "log_errors": levels["ERROR"] + levels["CRITICAL"],
        "log_missed_warnings": aps_missed,
        "log_samples": list(samples),
    }


def history_counts(url: str) -> Metrics:
    """tickwork's run history by outcome (paged: get_runs returns at most 10,000 rows)."""
    from tickwork import Scheduler

    scheduler = Scheduler(url, timezone="UTC")
    try:
        outcomes: Counter[str] = Counter()
        nodes: Counter[str] = Counter()
        slots: Counter[tuple[str, datetime]] = Counter()
        before = None
        while True:
            page = scheduler.get_runs(limit=10_000, before=before)
            for run in page:
                outcomes[run.outcome.value] += 1
                nodes[run.node_id or "-"] += 1
                slots[(run.job_id, run.scheduled_time)] += 1
            if len(page) < 10_000:
                break
            before = page[-1].id
    finally:
        scheduler.close()
    return {
        "history_runs": sum(outcomes.values()),
        "history_outcomes": dict(outcomes),
        "history_nodes": dict(nodes),
        "history_duplicate_slots": sum(n - 1 for n in slots.values() if n > 1),
        **{f"history_{outcome}": outcomes.get(outcome, 0) for outcome in OUTCOMES},
    }


OUTCOMES = ("succeeded", "failed", "missed", "lost", "running")


def sleep_until(epoch: float) -> None:
    while (left := epoch - time.time()) > 0:
        time.sleep(min(left, 1.0))


# -- scenario: shared_store ------------------------------------------------------------------


def add_interval_jobs(lib: str, url: str, t0: float, fires: int) -> None:
    """The same 50 jobs in both libraries: every 1 s from T0, ending half a second after the
    last wanted fire, so each job fires exactly ``fires`` times."""
    start, end = utc(t0), utc(t0 + fires - 1 + 0.5)
    if lib == "tickwork":
        from tickwork import Scheduler

        scheduler = Scheduler(url, timezone="UTC")
        scheduler.add_jobs(
            [
                {
                    "id": f"job{i}",
                    "func": JOB_REF,
                    "trigger": "interval",
                    "seconds": 1,
                    "start_date": start,
                    "end_date": end,
                    "args": [f"job{i}"],
                }
                for i in range(INTERVAL_JOBS)
            ]
        )
        scheduler.close()
        return
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    aps = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=aps_url(url))}, timezone="UTC"
    )
    aps.start(paused=True)  # APScheduler only writes to its store once started
    for i in range(INTERVAL_JOBS):
        aps.add_job(
            JOB_REF,
            "interval",
            seconds=1,
            start_date=start,
            end_date=end,
            args=[f"job{i}"],
            id=f"job{i}",
            replace_existing=True,
        )
    aps.shutdown(wait=False)


def run_shared_store(lib: str, url: str, fires: int, workdir: Path) -> Metrics:
    t0 = float(math.ceil(time.time() + SHARED_LEAD))
    add_interval_jobs(lib, url, t0, fires)
    added_at = time.time()
    if added_at > t0 - 2:
        raise RuntimeError(f"adding the jobs overran: {t0 - added_at:.1f} s left before T0")
    spec = {"lib": lib, "url": url}
    with children(PROCESSES, spec, workdir) as procs:
        ready = [float(p.wait_for("READY", READY_TIMEOUT)) for p in procs]
        if max(ready) >= t0:
            raise RuntimeError(f"processes were ready {max(ready) - t0:.2f} s after T0")
        sleep_until(t0 + fires - 1 + STOP_GRACE)
        results = [p.finish() for p in procs]
    per_process = read_fires([p.out_path for p in procs])
    every = [fire for rows in per_process for fire in rows]
    expected = INTERVAL_JOBS * fires
    per_job = Counter(job_id for job_id, _ in every)
    job_ids = [f"job{i}" for i in range(INTERVAL_JOBS)]
    slots: Counter[tuple[str, int]] = Counter()
    lateness = []
    for job_id, started in every:
        k = round(started - t0)
        slots[(job_id, k)] += 1
        lateness.append(started - (t0 + k))
    metrics: Metrics = {
        "expected": expected,
        "executed": len(every),
        "duplicates": sum(max(0, per_job[j] - fires) for j in job_ids),
        "misses": sum(max(0, fires - per_job[j]) for j in job_ids),
        "slots_covered": sum(1 for (j, k) in slots if 0 <= k < fires and j in job_ids),
        "slots_repeated": sum(n - 1 for n in slots.values() if n > 1),
        "off_grid": sum(n for (_, k), n in slots.items() if not 0 <= k < fires),
        "per_process": [len(rows) for rows in per_process],
        **lateness_metrics(lateness),
        "ready_margin_s": t0 - max(ready),
        "shutdown_s": max(r["shutdown_s"] for r in results),
        **log_summary([p.log_path for p in procs]),
    }
    if lib == "tickwork":
        metrics.update(history_counts(url))
    return metrics


# -- scenario: nodes_scaling ------------------------------------------------------------------


def run_nodes_scaling(nodes: int, url: str, n_jobs: int, workdir: Path) -> Metrics:
    """``n_jobs`` date jobs due at T, added in bulk first, run by ``nodes`` processes."""
    from tickwork import Scheduler

    due = time.time() + 6.0 + n_jobs / 2000
    scheduler = Scheduler(url, timezone="UTC")
    began = time.perf_counter()
    scheduler.add_jobs(
        [
            {
                "id": f"due{i:06d}",
                "func": JOB_REF,
                "trigger": "date",
                "run_date": utc(due),
                "args": [f"due{i:06d}"],
            }
            for i in range(n_jobs)
        ]
    )
    add_s = time.perf_counter() - began
    scheduler.close()
    added_at = time.time()
    if added_at >= due - 2:
        raise RuntimeError(f"adding {n_jobs} jobs took {add_s:.1f} s and left too little lead")
    with children(nodes, {"lib": "tickwork", "url": url}, workdir) as procs:
        ready = [float(p.wait_for("READY", READY_TIMEOUT)) for p in procs]
        if max(ready) >= due:
            raise RuntimeError(f"nodes were ready {max(ready) - due:.2f} s after T")
        paths = [p.out_path for p in procs]
        sleep_until(due + 1.0)
        seen, last_change = -1, time.monotonic()
        while time.time() < due + SETTLE_TIMEOUT:
            count = count_lines(paths)
            if count >= n_jobs:
                break
            if count != seen:
                seen, last_change = count, time.monotonic()
            elif time.monotonic() - last_change >= QUIET_S:
                break
            time.sleep(0.2)
        results = [p.finish() for p in procs]
    per_node = read_fires(paths)
    starts = [started for rows in per_node for _, started in rows]
    executed = len(starts)
    last = max(starts, default=due)
    metrics: Metrics = {
        "jobs": n_jobs,
        "executed": executed,
        "missed": n_jobs - executed,
        "fires_per_s": executed / (last - due) if executed and last > due else None,
        "duplicates": executed - len({job_id for rows in per_node for job_id, _ in rows}),
        "per_node": [len(rows) for rows in per_node],
        "add_s": add_s,
        "ready_margin_s": due - max(ready),
        "burst_s": last - due,
        **lateness_metrics([started - due for started in starts]),
        "shutdown_s": max(r["shutdown_s"] for r in results),
        **log_summary([p.log_path for p in procs]),
        **history_counts(url),
    }
    return metrics


# -- suite -----------------------------------------------------------------------------------


def run_case(
    scenario: str,
    variant: str,
    lib: str,
    backend: str,
    repeat: int,
    params: dict[str, Any],
    admin_url: str | None,
) -> Record:
    record = Record(scenario, variant, lib, backend, repeat, params)
    began = time.perf_counter()
    try:
        with (
            fresh_database(backend, admin_url) as url,
            tempfile.TemporaryDirectory(prefix="tickwork-cluster-") as tmp,
        ):
            if scenario == "shared_store":
                record.metrics = run_shared_store(lib, url, params["fires"], Path(tmp))
            else:
                record.metrics = run_nodes_scaling(params["nodes"], url, params["jobs"], Path(tmp))
    except Exception as exc:  # recorded and reported; the suite goes on
        record.error = f"{type(exc).__name__}: {exc}"
    finally:
        kill_all()
    record.wall_s = time.perf_counter() - began
    status = "ERROR" if record.error else "ok"
    print(
        f"[{backend}] {scenario} {variant} {lib} #{repeat + 1}: {status} "
        f"({record.wall_s:.1f} s) {_brief(record)}",
        file=sys.stderr,
        flush=True,
    )
    if record.error:
        print(record.error, file=sys.stderr, flush=True)
    return record


def _brief(record: Record) -> str:
    m = record.metrics
    if record.scenario == "shared_store" and m:
        return (
            f"executed {m['executed']}/{m['expected']}, dup {m['duplicates']}, "
            f"miss {m['misses']}, per process {m['per_process']}"
        )
    if record.scenario == "nodes_scaling" and m:
        return f"executed {m['executed']}/{m['jobs']}, fires/s {m['fires_per_s'] or 0:,.0f}"
    return ""


def run_suite(args: argparse.Namespace) -> list[Record]:
    admin_url = os.environ.get("TICKWORK_TEST_POSTGRES_URL")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not admin_url:
        sys.exit("PostgreSQL needs TICKWORK_TEST_POSTGRES_URL: run under scripts/with-postgres")
    fires = 10 if args.quick else 20
    jobs = 2_000 if args.quick else 10_000
    records = []
    if "shared_store" in args.scenario:
        for backend in backends:
            for repeat in range(args.repeat):
                for lib in LIBS:  # alternate so that drift in machine load hits both
                    records.append(
                        run_case(
                            "shared_store",
                            f"{fires} s",
                            lib,
                            backend,
                            repeat,
                            {"fires": fires},
                            admin_url,
                        )
                    )
    if "nodes_scaling" in args.scenario and "postgresql" in backends:
        for repeat in range(args.repeat):
            for nodes in NODE_COUNTS:
                records.append(
                    run_case(
                        "nodes_scaling",
                        str(nodes),
                        "tickwork",
                        "postgresql",
                        repeat,
                        {"nodes": nodes, "jobs": jobs},
                        admin_url,
                    )
                )
    return records


# -- report ----------------------------------------------------------------------------------

SHARED_METRICS = [
    Metric("executed", "executions (expected {expected:,})", None, 0),
    Metric("duplicates", "duplicates: sum max(0, n - {fires})", False, 0),
    Metric("misses", "misses: sum max(0, {fires} - n)", False, 0),
    Metric("slots_covered", "(job, grid second) pairs run at least once", None, 0),
    Metric("slots_repeated", "extra runs of an already-run (job, grid second)", False, 0),
    Metric("off_grid", "runs outside the T0 .. T0+{last} grid", None, 0),
    Metric("lateness_p50_ms", "lateness p50 (ms, vs nearest grid second)", False),
    Metric("lateness_p99_ms", "lateness p99 (ms)", False),
    Metric("lateness_max_ms", "lateness max (ms)", False),
    Metric("log_missed_warnings", "'was missed by' log lines (APScheduler)", None, 0),
    Metric("log_errors", "errors / tracebacks in process logs", None, 0),
    Metric("history_succeeded", "tickwork history: succeeded", None, 0),
    Metric("history_missed", "tickwork history: missed", None, 0),
    Metric("history_failed", "tickwork history: failed", None, 0),
    Metric("history_lost", "tickwork history: lost", None, 0),
    Metric("history_running", "tickwork history: running", None, 0),
    Metric("history_duplicate_slots", "tickwork history: repeated (job, scheduled time)", None, 0),
]
NODES_METRICS = [
    Metric("fires_per_s", "fires/s", True, 0),
    Metric("executed", "executed", None, 0),
    Metric("missed", "missed (jobs - executed)", None, 0),
    Metric("duplicates", "duplicates", None, 0),
    Metric("lateness_p50_ms", "lateness p50 (ms)", False),
    Metric("lateness_p99_ms", "lateness p99 (ms)", False),
    Metric("burst_s", "last start - T (s)", None, 2),
    Metric("history_missed", "history: missed", None, 0),
    Metric("history_succeeded", "history: succeeded", None, 0),
    Metric("log_errors", "errors / tracebacks in logs", None, 0),
]


def shared_table(records: list[Record], fires: int) -> list[str]:
    mine = [r for r in records if r.scenario == "shared_store"]
    lines = [
        "### shared_store",
        "",
        f"{PROCESSES} scheduler processes share one store; {INTERVAL_JOBS} interval jobs "
        f"(seconds=1, start_date T0, end_date T0+{fires - 0.5} s) fire {fires} times each: "
        f"{INTERVAL_JOBS * fires:,} executions expected. Lateness = start - nearest T0+k.",
        "",
        f"| metric | backend | tickwork | {LIB_TITLES['apscheduler']} | ratio |",
        "|---|---|---|---|---|",
    ]
    for metric in SHARED_METRICS:
        label = metric.label.format(expected=INTERVAL_JOBS * fires, fires=fires, last=fires - 1)
        for backend in dict.fromkeys(r.backend for r in mine):
            cells = {}
            for lib in LIBS:
                picked = [r for r in mine if r.lib == lib and r.backend == backend]
                cells[lib] = median_metric(picked, metric.key)
            ours, theirs = cells["tickwork"], cells["apscheduler"]
            if metric.key.startswith("history_"):
                theirs = (None, 0, 0)  # APScheduler keeps no history: n/a
            lines.append(
                f"| {label} | {backend} | {_cell(*ours, metric.digits)} | "
                f"{_cell(*theirs, metric.digits)} | {_ratio(metric, ours[0], theirs[0])} |"
            )
    per_process = [
        f"{r.backend} {r.lib} #{r.repeat + 1}: {r.metrics['per_process']}"
        for r in mine
        if not r.error
    ]
    if per_process:
        lines += ["", "Executions per process: " + "; ".join(per_process) + "."]
    return [*lines, ""]


def nodes_table(records: list[Record], jobs: int) -> list[str]:
    mine = [r for r in records if r.scenario == "nodes_scaling"]
    labels = list(dict.fromkeys(r.variant for r in mine))
    lines = [
        "### nodes_scaling (PostgreSQL)",
        "",
        f"{jobs:,} date jobs due at the same instant T (added in bulk before T), run by "
        "1, 2 and 3 tickwork node processes; misfire grace time 1 s (default), so fires "
        "not started within 1 s of T are missed. fires/s = executed / (last start - T). "
        "APScheduler: not applicable — its SQLAlchemyJobStore has no claiming, so processes "
        "sharing it run the same fires (see shared_store) instead of splitting them.",
        "",
        "| metric | " + " | ".join(f"{n} node{'s' * (n != '1')}" for n in labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for metric in NODES_METRICS:
        cells = [
            _cell(*median_metric([r for r in mine if r.variant == n], metric.key), metric.digits)
            for n in labels
        ]
        lines.append(f"| {metric.label} | " + " | ".join(cells) + " |")
    base = median_metric([r for r in mine if r.variant == "1"], "fires_per_s")[0]
    if base:
        speedups = []
        for n in labels:
            value = median_metric([r for r in mine if r.variant == n], "fires_per_s")[0]
            speedups.append(f"{value / base:.2f}x" if value else "—")
        lines.append("| fires/s vs 1 node | " + " | ".join(speedups) + " |")
    per_node = [
        f"{r.variant} #{r.repeat + 1}: {r.metrics['per_node']}" for r in mine if not r.error
    ]
    if per_node:
        lines += ["", "Executions per node: " + "; ".join(per_node) + "."]
    return [*lines, ""]


def render_report(records: list[Record], args: argparse.Namespace, elapsed: float) -> str:
    fires = 10 if args.quick else 20
    jobs = 2_000 if args.quick else 10_000
    lines = [
        f"## tickwork cluster benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Medians of {args.repeat} run(s){' (--quick sizes)' if args.quick else ''}; "
        f"ratio > 1 means tickwork is better. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared, noisy). Wall time {elapsed / 60:.1f} min.",
        "",
    ]
    if any(r.scenario == "shared_store" for r in records):
        lines += shared_table(records, fires)
    if any(r.scenario == "nodes_scaling" for r in records):
        lines += nodes_table(records, jobs)
    samples = [
        (r, sample) for r in records if not r.error for sample in r.metrics.get("log_samples", [])
    ]
    if samples:
        lines += ["### log samples (first distinct warnings/errors per run)", "", "```"]
        lines += [f"{r.scenario} {r.variant} {r.lib} {r.backend}: {s}" for r, s in samples]
        lines += ["```", ""]
    lines += error_lines(records)
    return "\n".join(lines) + "\n"


# -- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s runs and 2k-job bursts")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (default 1)")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return
    atexit.register(kill_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    records = run_suite(args)
    elapsed = time.perf_counter() - began
    report = render_report(records, args, elapsed)
    path = write_results(records, report, args, elapsed, name="cluster")
    print(report)
    print(f"raw results: {path.relative_to(ROOT)} (+ .md)", file=sys.stderr)


if __name__ == "__main__":
    main()
