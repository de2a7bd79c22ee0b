"""A scheduler node process for cluster tests.

Usage: python -m tests.acceptance.cluster_node URL SECONDS [setup]
With ``setup`` it first adds the jobs of ``tests/acceptance/test_restart.py``.
Prints ``ready <node id>`` once started, runs for SECONDS (or until SIGTERM), then shuts
down cleanly. Short heartbeat settings make failure detection fast enough for tests.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from tickwork import EngineSettings, Scheduler

#: Heartbeats every 0.25 s; a node silent for 2 s is dead.
SETTINGS = EngineSettings(poll_interval=0.05, heartbeat_interval=0.25, node_timeout=2.0)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    url, seconds = sys.argv[1], float(sys.argv[2])
    scheduler = Scheduler(url, timezone="UTC", settings=SETTINGS)
    if "setup" in sys.argv[3:]:
        add_restart_jobs(scheduler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    print("ready", scheduler.node_id, flush=True)
    stop.wait(seconds)
    scheduler.shutdown()
    scheduler.close()


def add_restart_jobs(scheduler: Scheduler) -> None:
    """Jobs whose fate across a restart the restart test checks."""
    scheduler.add_job(
        "tests.jobs:record",
        trigger="interval",
        seconds=0.5,
        coalesce=True,
        misfire_grace_time=None,
        id="lenient",
    )
    scheduler.add_job(
        "tests.jobs:record",
        trigger="interval",
        seconds=0.5,
        coalesce=False,
        misfire_grace_time=0.2,
        max_instances=10,
        id="strict",
    )
    scheduler.add_job(
        "tests.jobs:record", trigger="cron", hour=3, minute=15, args=["n"], id="nightly"
    )


if __name__ == "__main__":
    main()
