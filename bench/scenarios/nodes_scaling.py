"""``nodes_scaling``: a burst of due jobs run by 1, 2 and 3 node processes (tickwork only)."""

from __future__ import annotations

import time
from pathlib import Path

from bench.cluster import (
    JOB_REF,
    QUIET_S,
    READY_TIMEOUT,
    SETTLE_TIMEOUT,
    children,
    count_lines,
    history_counts,
    log_summary,
    read_fires,
    sleep_until,
)
from bench.harness import (
    Metric,
    Metrics,
    Record,
    cell,
    lateness_metrics,
    median_metric,
    utc,
)

#: Node counts of ``nodes_scaling``.
NODE_COUNTS = (1, 2, 3)


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
            cell(*median_metric([r for r in mine if r.variant == n], metric.key), metric.digits)
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
