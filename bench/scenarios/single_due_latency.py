"""``single_due_latency``: how late an idle scheduler starts a lone job."""

from __future__ import annotations

import time

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
)

#: Seconds from now at which the latency scenario's job is due.
LATENCY_LEAD = 0.3
LATENCY_METRICS = [
    Metric("lateness_p50_ms", "lateness p50 (ms)", False),
    Metric("lateness_p99_ms", "lateness p99 (ms)", False),
    Metric("lateness_max_ms", "lateness max (ms)", False),
]


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
        add_one_by_one(scheduler, [spec])
        if jobs.wait_settled(1, 10.0) and jobs.STARTS:
            lateness.append(jobs.STARTS[0][1] - due)
        else:
            timeouts += 1
        time.sleep(0.1)  # let the previous fire's bookkeeping finish before the next one
    stop(scheduler)
    return {"fires": len(lateness), "timeouts": timeouts, **lateness_metrics(lateness)}
