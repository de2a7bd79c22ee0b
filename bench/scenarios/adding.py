"""``add_one_by_one`` and ``add_bulk``: how fast jobs are added."""

from __future__ import annotations

from bench.harness import (
    Metric,
    Metrics,
    aps_scheduler,
    stop,
    tw_scheduler,
)
from bench.scenarios.jobspecs import (
    add_one_by_one,
    interval_spec,
    tw_add_bulk,
)

ADD_METRICS = [Metric("jobs_per_s", "jobs/s", True, 0)]


def child_add_one_by_one(lib: str, url: str, n: int) -> Metrics:
    """Adds hit the store in both: APScheduler only stores jobs once started (here paused)."""
    specs = [interval_spec(i) for i in range(n)]
    if lib == "tickwork":
        scheduler = tw_scheduler(url)
        scheduler.start(paused=True)
        seconds = add_one_by_one(scheduler, specs)
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
