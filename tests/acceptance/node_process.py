"""A scheduler node in its own process, for acceptance tests.

Usage: python -m tests.acceptance.node_process URL SECONDS [setup]
With ``setup`` it first adds the jobs of ``tests/acceptance/test_restart.py``.
Prints ``ready <node id>`` once started, runs for SECONDS, then shuts down cleanly.
"""

from __future__ import annotations

import sys
import time

from tickwork import EngineSettings, Scheduler


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    scheduler = Scheduler(
        url,
        timezone="UTC",
        settings=EngineSettings(poll_interval=0.05, heartbeat_interval=0.2, node_timeout=1.0),
    )
    if "setup" in sys.argv[3:]:
        scheduler.add_job(
            "lenient",
            "tests.jobs:record",
            trigger="interval",
            seconds=0.5,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            "strict",
            "tests.jobs:record",
            trigger="interval",
            seconds=0.5,
            coalesce=False,
            misfire_grace_time=0.2,
            max_instances=10,
        )
        scheduler.add_job(
            "nightly", "tests.jobs:record", trigger="cron", hour=3, minute=15, args=["n"]
        )
    scheduler.start()
    print("ready", scheduler.node_id, flush=True)
    time.sleep(seconds)
    scheduler.shutdown()
    scheduler.close()


if __name__ == "__main__":
    main()
