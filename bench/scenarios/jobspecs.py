"""The jobs the engine scenarios add, and the ways they add them, the same in both libraries."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

JOB_REF = "bench.jobs:mark"


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


def tw_add_bulk(scheduler: Any, specs: list[dict[str, Any]]) -> float:
    began = time.perf_counter()
    scheduler.add_jobs(specs)
    return time.perf_counter() - began
