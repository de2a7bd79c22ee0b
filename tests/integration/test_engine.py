"""The engine on real stores: misfires, coalescing, max_instances, DST, pause layering.

Time is driven by a manual clock; the engine's own loop thread does the claiming.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests import jobs
from tests.claims import ClaimWatch
from tests.conftest import eventually
from tickwork import ManualClock, Outcome, Run, Scheduler

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
#: Interval jobs in these tests start their grid one step after the clock starts.
FIRST = T0 + timedelta(seconds=10)


def runs_of(scheduler: Scheduler, job_id: str) -> list[Run]:
    """Finished runs of a job, oldest first."""
    runs = scheduler.get_runs(job_id, limit=1000)
    return sorted(
        (run for run in runs if run.outcome is not Outcome.RUNNING),
        key=lambda run: run.scheduled_time,
    )


def settle(scheduler: Scheduler, job_id: str, count: int) -> list[Run]:
    scheduler.wakeup()
    return eventually(
        lambda: len(runs_of(scheduler, job_id)) >= count and runs_of(scheduler, job_id)
    )


def _next_run_time(scheduler: Scheduler, job_id: str) -> datetime:
    job = scheduler.get_job(job_id)
    assert job is not None
    assert job.next_run_time is not None
    return job.next_run_time


def start_at(
    make_scheduler: Callable[..., Scheduler], moment: datetime
) -> tuple[Scheduler, ManualClock]:
    clock = ManualClock(moment)
    scheduler = make_scheduler(clock=clock)
    scheduler.start()
    return scheduler, clock


def test_fires_when_the_clock_reaches_next_run_time(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler, clock = start_at(make_scheduler, T0)
    scheduler.add_job(
        jobs.record, trigger="interval", seconds=10, start_date=FIRST, args=["j"], id="j"
    )
    clock.set(T0 + timedelta(seconds=9))
    ClaimWatch(scheduler).wait_for_a_claim()
    assert scheduler.get_runs("j") == []  # not even claimed ahead
    clock.set(T0 + timedelta(seconds=10, milliseconds=5))
    (run,) = settle(scheduler, "j", 1)
    assert run.scheduled_time == T0 + timedelta(seconds=10)
    assert run.outcome is Outcome.SUCCEEDED
    job = scheduler.get_job("j")
    assert job is not None
    assert job.next_run_time == T0 + timedelta(seconds=20)


def test_misfires_without_coalesce_are_recorded_as_missed(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler, clock = start_at(make_scheduler, T0)
    scheduler.add_job(
        jobs.record,
        trigger="interval",
        seconds=10,
        start_date=FIRST,
        coalesce=False,
        misfire_grace_time=1,
        max_instances=5,
        id="strict",
    )
    clock.set(T0 + timedelta(seconds=30, milliseconds=500))
    runs = settle(scheduler, "strict", 3)
    assert [(run.scheduled_time - T0).seconds for run in runs] == [10, 20, 30]
    assert [run.outcome for run in runs] == [Outcome.MISSED, Outcome.MISSED, Outcome.SUCCEEDED]
    assert "misfire_grace_time" in (runs[0].error or "")


def test_coalesce_runs_once_for_many_missed_times(make_scheduler: Callable[..., Scheduler]) -> None:
    scheduler, clock = start_at(make_scheduler, T0)
    scheduler.add_job(
        jobs.record,
        trigger="interval",
        seconds=10,
        start_date=FIRST,
        coalesce=True,
        misfire_grace_time=None,
        id="lenient",
    )
    clock.set(T0 + timedelta(seconds=55))
    (run,) = settle(scheduler, "lenient", 1)
    assert run.scheduled_time == T0 + timedelta(seconds=50)
    assert run.outcome is Outcome.SUCCEEDED
    job = scheduler.get_job("lenient")
    assert job is not None
    assert job.next_run_time == T0 + timedelta(seconds=60)


def test_max_instances_skips_fires_while_one_runs(make_scheduler: Callable[..., Scheduler]) -> None:
    scheduler, clock = start_at(make_scheduler, T0)
    scheduler.add_job(
        jobs.wait_for_gate,
        trigger="interval",
        seconds=1,
        start_date=FIRST,
        max_instances=1,
        misfire_grace_time=None,
        id="slow",
    )
    clock.set(FIRST)
    scheduler.wakeup()
    eventually(lambda: scheduler.get_runs("slow", outcome="running"))
    clock.set(FIRST + timedelta(seconds=1))
    (skipped,) = settle(scheduler, "slow", 1)
    assert skipped.outcome is Outcome.MISSED
    assert "max_instances" in (skipped.error or "")
    jobs.gate.set()
    runs = settle(scheduler, "slow", 2)
    assert [run.outcome for run in runs] == [Outcome.SUCCEEDED, Outcome.MISSED]


def test_grace_is_also_judged_when_a_worker_starts_the_fire(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    """A fire stuck behind a busy worker past its grace time is missed, not run late."""
    scheduler, clock = start_at(make_scheduler, T0)
    scheduler.executors["default"].shutdown()
    from tickwork.executors import ThreadPoolExecutor

    scheduler.engine._executors["default"] = single = ThreadPoolExecutor(max_workers=1)
    single.start(scheduler.engine._context)
    scheduler.add_job(jobs.wait_for_gate, trigger="date", run_date=T0, id="blocker")
    scheduler.add_job(jobs.record, trigger="date", run_date=T0, misfire_grace_time=1, id="queued")
    scheduler.wakeup()
    eventually(lambda: scheduler.get_runs("queued"))
    clock.set(T0 + timedelta(seconds=5))
    jobs.gate.set()
    (run,) = settle(scheduler, "queued", 1)
    assert run.outcome is Outcome.MISSED
    assert "started" in (run.error or "")


def nightly_in_berlin(
    make_scheduler: Callable[..., Scheduler], start: datetime
) -> tuple[Scheduler, ManualClock]:
    """A running scheduler at ``start`` with a cron job at 02:30 Berlin time."""
    scheduler, clock = start_at(make_scheduler, start)
    scheduler.add_job(
        jobs.record,
        trigger="cron",
        hour=2,
        minute=30,
        timezone=ZoneInfo("Europe/Berlin"),
        misfire_grace_time=None,
        id="nightly",
    )
    return scheduler, clock


def test_cron_job_across_dst_changes_fires_once_per_day(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 27, 12, 0, tzinfo=berlin)
    scheduler, clock = nightly_in_berlin(make_scheduler, start)
    fired: list[datetime] = []
    for day in range(1, 5):  # 28th .. 31st March: spring forward on the 29th
        clock.set(start + timedelta(days=day))
        runs = settle(scheduler, "nightly", day)
        fired = [run.scheduled_time.astimezone(berlin) for run in runs]
    assert len(fired) == len({moment.date() for moment in fired}) == 4
    assert [moment.utcoffset() for moment in fired] == [
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=2),
        timedelta(hours=2),
    ]
    # 02:30 does not exist on the 29th; the run that day is moved into the hour after the gap
    assert fired[1].date().day == 29
    assert fired[1].hour == 3
    assert [moment.hour for moment in (fired[0], fired[2], fired[3])] == [2, 2, 2]


def test_cron_job_on_the_fall_back_day_fires_once(make_scheduler: Callable[..., Scheduler]) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 24, 12, 0, tzinfo=berlin)
    scheduler, clock = nightly_in_berlin(make_scheduler, start)
    # step through both 02:30s of the 25th, then past 02:30 on the 26th, one claim each
    for hours, expected_runs in ((13, 0), (14, 0), (15, 1), (15.5, 1), (39, 2)):
        clock.set(start + timedelta(hours=hours))
        scheduler.wakeup()
        eventually(lambda: _next_run_time(scheduler, "nightly") > clock.now())
        runs = settle(scheduler, "nightly", expected_runs) if expected_runs else []
    fired = [run.scheduled_time for run in runs]
    assert len(fired) == 2
    assert fired[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # first 02:30 (CEST)
    assert fired[1] == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # next day, 02:30 CET


def test_global_pause_keeps_each_nodes_own_pause(make_scheduler: Callable[..., Scheduler]) -> None:
    first = make_scheduler()
    second = make_scheduler()
    first.start()
    second.start()
    first.pause_node()  # node-level pause of the first node only
    first.pause()  # global pause
    assert first.get_scheduler_state().is_paused
    assert second.get_scheduler_state().is_paused
    watches = [ClaimWatch(first), ClaimWatch(second)]
    first.add_job(jobs.record, id="during-pause")
    for watch in watches:
        watch.wait_for_a_claim()
    assert first.get_runs("during-pause") == []
    second.resume()  # lift the global pause from any node
    (run,) = eventually(
        lambda: [r for r in first.get_runs("during-pause") if r.outcome is Outcome.SUCCEEDED]
    )
    assert run.node_id == second.node_id  # the first node stays paused on its own
    assert first.get_node().is_paused
    assert not second.get_node().is_paused
    first.resume_node()
    first.add_job(jobs.record, trigger="interval", seconds=0.2, id="after")
    eventually(lambda: {r.node_id for r in first.get_runs("after", limit=100)} >= {first.node_id})


def test_nodes_register_heartbeat_and_stop(make_scheduler: Callable[..., Scheduler]) -> None:
    scheduler = make_scheduler()
    scheduler.start()
    node = scheduler.get_node()
    assert node.state.value == "running"
    assert node.pid > 0
    later = eventually(
        lambda: scheduler.get_node().heartbeat_at > node.heartbeat_at and scheduler.get_node()
    )
    assert later.heartbeat_at > node.started_at
    assert [n.id for n in scheduler.get_nodes()] == [node.id]
    scheduler.shutdown()
    stopped = scheduler.get_node(node.id)
    assert stopped.state.value == "stopped"
    assert scheduler.get_nodes() == []
    assert [n.id for n in scheduler.get_nodes(include_stopped=True)] == [node.id]


def test_runs_left_running_at_shutdown_without_wait_become_lost(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    scheduler.start()
    scheduler.add_job(jobs.wait_for_gate, id="stuck")
    eventually(lambda: scheduler.get_runs("stuck", outcome="running"))
    scheduler.shutdown(wait=False)
    (run,) = scheduler.get_runs("stuck")
    assert run.outcome is Outcome.LOST
    assert "shut down" in (run.error or "")
    jobs.gate.set()


def test_history_retention_prunes_old_runs(make_scheduler: Callable[..., Scheduler]) -> None:
    clock = ManualClock(T0)
    scheduler = make_scheduler(clock=clock)
    scheduler.add_job(jobs.record, trigger="date", run_date=T0 + timedelta(days=9), id="h")
    scheduler.run_job("h")
    clock.set(T0 + timedelta(days=8))
    scheduler.run_job("h")
    pruned = scheduler.store.prune_runs(clock.now() - timedelta(days=7))
    assert pruned == 1
    (kept,) = scheduler.get_runs("h")
    assert kept.scheduled_time == T0 + timedelta(days=8)


def test_runs_claimed_without_reaching_the_engine_are_marked_lost(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    """A claim committed while its connection failed leaves runs nobody will start."""
    from tickwork.engine.planner import plan_claim

    scheduler, clock = start_at(make_scheduler, T0)
    scheduler.add_job(
        jobs.record, trigger="interval", seconds=10, start_date=FIRST, rerun_lost=True, id="doubt"
    )
    # claim it for this node, behind the engine's back: the engine never sees these fires
    scheduler.store.claim_due(scheduler.node_id, plan_claim, limit=10, now=FIRST)
    clock.set(FIRST + timedelta(seconds=5))
    (orphan,) = scheduler.get_runs("doubt")
    assert orphan.outcome is Outcome.RUNNING
    lost = eventually(lambda: scheduler.get_runs("doubt", outcome="lost"), timeout=20)
    assert "never started" in (lost[0].error or "")
    # rerun_lost: the job is made due again and runs
    eventually(lambda: scheduler.get_runs("doubt", outcome="succeeded"), timeout=20)


def test_a_late_report_replaces_lost(make_scheduler: Callable[..., Scheduler]) -> None:
    """A node declared dead while only cut off reports what really happened."""
    scheduler = make_scheduler()
    scheduler.start()
    scheduler.add_job(jobs.wait_for_gate, id="slow")
    (running,) = eventually(lambda: scheduler.get_runs("slow", outcome="running"))
    lost = scheduler.store.abandon_runs(
        scheduler.node_id, [(running.job_id, running.scheduled_time)], "cut off"
    )
    assert [run.job_id for run in lost] == ["slow"]
    assert scheduler.get_runs("slow")[0].outcome is Outcome.LOST
    jobs.gate.set()
    eventually(lambda: scheduler.get_runs("slow")[0].outcome is Outcome.SUCCEEDED)


def test_an_interval_job_continues_every_interval_after_an_explicit_next_run_time(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    # "Run now, then every 10 s", off the start_date grid: X, X+10, X+20 (as APScheduler),
    # never the old grid's next point 6.7 s after X.
    scheduler, clock = start_at(make_scheduler, T0)
    explicit = FIRST + timedelta(seconds=3.3)
    scheduler.add_job(
        jobs.record,
        "interval",
        id="now-then-every",
        seconds=10,
        start_date=FIRST,
        next_run_time=explicit,
        misfire_grace_time=None,
    )
    for step in range(3):
        clock.set(explicit + timedelta(seconds=10 * step))
        settle(scheduler, "now-then-every", step + 1)
    assert [run.scheduled_time for run in runs_of(scheduler, "now-then-every")] == [
        explicit + timedelta(seconds=10 * step) for step in range(3)
    ]
    moved = FIRST + timedelta(seconds=47.5)
    scheduler.modify_job("now-then-every", next_run_time=moved)
    assert _next_run_time(scheduler, "now-then-every") == moved
    clock.set(moved)
    settle(scheduler, "now-then-every", 4)
    assert _next_run_time(scheduler, "now-then-every") == moved + timedelta(seconds=10)
