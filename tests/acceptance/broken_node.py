"""A scheduler with a fault injected into its claim loop, for ``tickwork serve --app``.

Nothing a job or listener does can crash an internal thread any more, so the test that a
node which cannot go on exits (instead of heartbeating while firing nothing) has to break
the engine itself: every claim raises ``SystemExit``.
"""

from __future__ import annotations

import os

from tickwork import EngineSettings, Scheduler

#: Where the broken node's database is (not TICKWORK_DATABASE_URL: that clashes with --app).
DATABASE_VARIABLE = "BROKEN_NODE_DATABASE_URL"


def scheduler() -> Scheduler:
    made = Scheduler(
        os.environ[DATABASE_VARIABLE],
        settings=EngineSettings(poll_interval=0.05, heartbeat_interval=0.5, node_timeout=5),
    )

    def claim_that_kills_the_thread() -> float | None:
        raise SystemExit("injected fault in the claim loop")

    made.engine.process_due = claim_that_kills_the_thread  # type: ignore[method-assign]
    return made
