"""A scheduler node process for the fault-injection test.

Usage: python -m tests.acceptance.fault_node URL
Prints ``ready <node id>`` once started and runs until SIGTERM, then shuts down cleanly.
Its thread pool passes each fire's scheduled time to the job as ``scheduled=...``, so the
job's log line names the fire it ran and executions can be matched with run rows.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading

from tickwork import EngineSettings, Scheduler
from tickwork.executors.threadpool import ThreadPoolExecutor
from tickwork.store.base import Fire

#: A node silent for 4 s is dead: short enough for a test, long enough that a loaded
#: 2-core CI machine rarely declares a healthy node dead (which the test tolerates anyway).
SETTINGS = EngineSettings(poll_interval=0.05, heartbeat_interval=0.5, node_timeout=4.0)


class StampingThreadPool(ThreadPoolExecutor):
    """The real thread pool, giving each call its fire's scheduled time."""

    def submit(self, fire: Fire) -> None:
        stamped = {**fire.kwargs, "scheduled": fire.scheduled_time.isoformat()}
        super().submit(dataclasses.replace(fire, kwargs=stamped))


def main() -> None:
    import sys

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(process)d %(message)s")
    scheduler = Scheduler(
        sys.argv[1],
        timezone="UTC",
        settings=SETTINGS,
        executors={"default": StampingThreadPool(max_workers=40)},
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    print("ready", scheduler.node_id, flush=True)
    stop.wait()
    scheduler.shutdown()
    scheduler.close()


if __name__ == "__main__":
    main()
