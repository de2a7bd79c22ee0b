"""``shared_store``: several scheduler processes share one store; every fire should run once."""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path

from bench.cluster import (
    JOB_REF,
    READY_TIMEOUT,
    STOP_GRACE,
    children,
    history_counts,
    log_summary,
    read_fires,
    sleep_until,
)
from bench.harness import (
    LIB_TITLES,
    LIBS,
    Metric,
    Metrics,
    Record,
    aps_url,
    cell,
    lateness_metrics,
    median_metric,
    ratio,
    utc,
)

#: Scheduler processes sharing the store in ``shared_store``.
PROCESSES = 3
#: Interval jobs in ``shared_store``.
INTERVAL_JOBS = 50
#: Seconds between the end of the parent's adds and the first fire (T0) in ``shared_store``:
#: room for the processes to start, which takes a few seconds on the shared 2-core machine.
SHARED_LEAD = 8.0


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
                f"| {label} | {backend} | {cell(*ours, metric.digits)} | "
                f"{cell(*theirs, metric.digits)} | {ratio(metric, ours[0], theirs[0])} |"
            )
    per_process = [
        f"{r.backend} {r.lib} #{r.repeat + 1}: {r.metrics['per_process']}"
        for r in mine
        if not r.error
    ]
    if per_process:
        lines += ["", "Executions per process: " + "; ".join(per_process) + "."]
    return [*lines, ""]
