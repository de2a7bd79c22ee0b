"""``startup_100k``: start time and memory with a large, pre-filled store."""

from __future__ import annotations

import time
import types
from datetime import UTC, datetime

from bench.harness import (
    Metric,
    Metrics,
    aps_scheduler,
    aps_url,
    peak_mb,
    preload,
    rss_mb,
    stop,
    tw_scheduler,
)
from bench.scenarios.jobspecs import (
    interval_spec,
)

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
