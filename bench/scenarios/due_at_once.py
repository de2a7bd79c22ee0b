"""``due_at_once_1k`` / ``due_at_once_10k``: a burst of jobs due at the same instant."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.harness import (
    Metric,
    Metrics,
    aps_scheduler,
    lateness_metrics,
    stop,
    tw_scheduler,
    utc,
)
from bench.scenarios.jobspecs import (
    add_one_by_one,
    date_spec,
    tw_add_bulk,
)

#: Longest wait for a due-at-once run to settle (every job executed or missed).
SETTLE_TIMEOUT = 120.0
DUE_METRICS = [
    Metric("fires_per_s", "fires/s", True, 0),
    Metric("lateness_p50_ms", "lateness p50 (ms)", False),
    Metric("lateness_p99_ms", "lateness p99 (ms)", False),
    Metric("lateness_max_ms", "lateness max (ms)", False),
    Metric("executed", "executed", None, 0),
    Metric("missed", "missed", None, 0),
]


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
