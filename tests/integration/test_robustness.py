"""One job's trouble stays that job's (issue 11, findings 3 and 4, and thread supervision).

Each scenario runs a canary job beside the troublemaker and checks that the canary keeps
firing and that every run reaches a final outcome.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import jobs
from tests.conftest import eventually
from tickwork import EngineSettings, Outcome, Run, Scheduler
from tickwork.events import (
    EVENT_JOB_ADDED,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    SchedulerEvent,
)
from tickwork.executors import AsyncIOExecutor, ExecutionContext, Executor
from tickwork.run import RunResult
from tickwork.store.base import Fire
from tickwork.store.sqlite import SQLiteStore
from tickwork.supervision import Health, supervised_thread

from .conftest import FAST

CANARY_SECONDS = 0.3


def _final(scheduler: Scheduler, job_id: str) -> list[Run]:
    return [r for r in scheduler.get_runs(job_id) if r.outcome is not Outcome.RUNNING]


def _succeeded(scheduler: Scheduler, job_id: str) -> int:
    return sum(r.outcome is Outcome.SUCCEEDED for r in scheduler.get_runs(job_id, limit=1000))


def _add_canary(scheduler: Scheduler, executor: str = "default") -> None:
    scheduler.add_job(
        jobs.record,
        "interval",
        args=["canary"],
        seconds=CANARY_SECONDS,
        executor=executor,
        misfire_grace_time=None,
        id="canary",
    )


def _canary_keeps_firing(scheduler: Scheduler) -> None:
    """The canary succeeds at least twice more from now on."""
    before = _succeeded(scheduler, "canary")
    eventually(lambda: _succeeded(scheduler, "canary") >= before + 2, timeout=30)


def _settle(scheduler: Scheduler) -> None:
    """Stop the canary and check that no run is left ``running``."""
    scheduler.remove_job("canary")
    assert scheduler.wait_idle(30)
    eventually(
        lambda: not scheduler.get_runs(outcome=Outcome.RUNNING, limit=1000),
        timeout=30,
    )


@pytest.mark.slow
def test_a_worker_that_kills_its_process_breaks_only_its_own_run(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    processes = {"type": "processpool", "max_workers": 2}
    scheduler = make_scheduler(executors={"processes": processes})
    scheduler.start()
    _add_canary(scheduler)
    options: dict[str, Any] = {"executor": "processes", "misfire_grace_time": None}
    scheduler.add_job(jobs.exit_process, args=[3], **options, id="dies")
    (died,) = eventually(lambda: _final(scheduler, "dies"), timeout=60)
    assert died.outcome is Outcome.FAILED
    assert died.error == "WorkerDiedError: worker process died (exit code 3)"

    # the pool was replaced: the next process job runs, and so does a thread job
    scheduler.add_job(jobs.add, args=[2, 3], **options, id="after")
    (after,) = eventually(lambda: _final(scheduler, "after"), timeout=60)
    assert (after.outcome, after.result) == (Outcome.SUCCEEDED, "5")
    _canary_keeps_firing(scheduler)
    assert scheduler.healthy
    _settle(scheduler)


@pytest.mark.parametrize("error", [SystemExit(2), KeyboardInterrupt(), RuntimeError("x")])
def test_a_listener_that_raises_anything_stops_no_thread(
    make_scheduler: Callable[..., Scheduler], error: BaseException
) -> None:
    scheduler = make_scheduler()
    raised: list[SchedulerEvent] = []

    def listener(event: SchedulerEvent) -> None:
        raised.append(event)
        raise error

    # executed events come from the recorder thread, submitted ones from the dispatcher's
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_SUBMITTED)
    scheduler.start()
    _add_canary(scheduler)
    eventually(lambda: len(raised) >= 4)
    _canary_keeps_firing(scheduler)
    assert scheduler.healthy
    _settle(scheduler)


@pytest.mark.parametrize(
    ("func", "outcome", "text"),
    [
        (jobs.deep_result, Outcome.SUCCEEDED, "<unrepresentable result of type list: Recursion"),
        (jobs.bad_repr_result, Outcome.SUCCEEDED, "<unrepresentable result of type _BadRepr: "),
        (jobs.bad_str_error, Outcome.FAILED, "_BadStrError: <unprintable: __str__ raised"),
        (jobs.hostile_text_error, Outcome.FAILED, "RuntimeError: nul \\x00 and surrogate \\ud800"),
        (jobs.system_exit, Outcome.FAILED, "SystemExit: 3"),
    ],
)
def test_every_result_and_error_gets_a_final_outcome(
    make_scheduler: Callable[..., Scheduler],
    func: Callable[[], object],
    outcome: Outcome,
    text: str,
) -> None:
    scheduler = make_scheduler()
    scheduler.start()
    _add_canary(scheduler)
    scheduler.add_job(func, max_instances=1, id="odd")
    (run,) = eventually(lambda: _final(scheduler, "odd"))
    assert run.outcome is outcome
    assert ((run.result if outcome is Outcome.SUCCEEDED else run.error) or "").startswith(text)
    _canary_keeps_firing(scheduler)
    _settle(scheduler)


@pytest.mark.parametrize(
    ("func", "error"),
    [(jobs.async_cancelled, "CancelledError: "), (jobs.async_system_exit, "SystemExit: 4")],
)
def test_asyncio_jobs_that_cancel_or_exit_fail_and_the_loop_goes_on(
    make_scheduler: Callable[..., Scheduler], func: Callable[[], object], error: str
) -> None:
    scheduler = make_scheduler(executors={"loop": AsyncIOExecutor()})
    scheduler.start()
    _add_canary(scheduler, executor="loop")
    scheduler.add_job(func, executor="loop", id="odd")
    (run,) = eventually(lambda: _final(scheduler, "odd"))
    assert (run.outcome, run.error) == (Outcome.FAILED, error)
    _canary_keeps_firing(scheduler)
    _settle(scheduler)


class _RefusingExecutor(Executor):
    """An executor whose every submit raises, as a broken pool or a full queue would."""

    def start(self, context: ExecutionContext) -> None:
        pass

    def submit(self, fire: Fire) -> None:
        raise SystemExit("refused")

    def cancel(self, fire: Fire) -> None:
        raise AssertionError("nothing was submitted, so nothing can time out")

    def shutdown(self, wait: bool = True) -> None:
        pass


def test_a_submit_that_raises_fails_that_fire_only(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler(executors={"refusing": _RefusingExecutor()})
    scheduler.start()
    _add_canary(scheduler)
    # an interval job: its fires go through the dispatch thread (claimed ahead)
    scheduler.add_job(jobs.record, "interval", seconds=0.2, executor="refusing", id="refused")
    eventually(lambda: len(_final(scheduler, "refused")) >= 3)
    assert {r.error for r in _final(scheduler, "refused")} == {"SystemExit: refused"}
    _canary_keeps_firing(scheduler)
    scheduler.remove_job("refused")
    _settle(scheduler)


@pytest.mark.parametrize("executor", ["threadpool", "processpool", "asyncio"])
def test_started_at_is_recorded_while_the_run_runs(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path, executor: str
) -> None:
    scheduler = make_scheduler(executors={"here": {"type": executor}})
    scheduler.start()
    release = tmp_path / "release"
    # no grace time: starting worker processes on a loaded machine can take seconds
    scheduler.add_job(
        jobs.wait_for_file, args=[str(release)], executor="here", misfire_grace_time=None, id="held"
    )
    (run,) = eventually(
        lambda: [r for r in scheduler.get_runs("held") if r.started_at is not None], timeout=60
    )
    assert run.outcome is Outcome.RUNNING
    assert run.started_at is not None
    assert run.started_at >= run.claimed_at
    release.touch()
    (done,) = eventually(lambda: _final(scheduler, "held"), timeout=60)
    assert (done.outcome, done.started_at) == (Outcome.SUCCEEDED, run.started_at)


def test_shutdown_interrupts_runs_still_going_after_the_grace_period(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    settings = EngineSettings(
        poll_interval=0.05, heartbeat_interval=0.2, node_timeout=1.0, shutdown_grace=0.5
    )
    scheduler = make_scheduler(settings=settings)
    scheduler.start()
    scheduler.add_job(jobs.wait_for_gate, args=[60], id="forever")
    scheduler.add_job(jobs.record, args=["quick"], id="quick")
    eventually(lambda: scheduler.get_runs("forever") and _final(scheduler, "quick"))
    scheduler.shutdown(wait=True)  # returns although the job is still waiting
    assert scheduler.engine.interrupted == 1
    (run,) = scheduler.get_runs("forever")
    assert run.outcome is Outcome.INTERRUPTED
    assert "0.5 s shutdown grace period" in (run.error or "")
    assert _final(scheduler, "quick")[0].outcome is Outcome.SUCCEEDED


def test_an_unhealthy_node_stops_claiming_and_leaves_the_cluster(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    scheduler.start()
    _add_canary(scheduler)
    eventually(lambda: _succeeded(scheduler, "canary") >= 1)
    scheduler.engine.health.fail("injected: the recorder cannot go on")
    assert not scheduler.healthy
    assert scheduler.health_reason == "injected: the recorder cannot go on"
    eventually(lambda: scheduler.get_node().state.value == "stopped")
    assert scheduler.get_nodes() == []
    # the claim loop and the heartbeat have ended: nothing claims or rejoins as this node
    eventually(
        lambda: (
            not {"tickwork-engine", "tickwork-heartbeat"}
            & {thread.name for thread in threading.enumerate()}
        )
    )


def test_a_thread_that_keeps_crashing_makes_the_node_unhealthy() -> None:
    health = Health()
    reasons: list[str] = []
    health.observe(reasons.append)
    attempts: list[int] = []

    def body() -> None:
        attempts.append(1)
        if len(attempts) == 2:
            return  # recovered after one restart: no health problem
        raise SystemExit("gone")

    thread = supervised_thread("recovering", body, health)
    thread.start()
    thread.join(30)
    assert (len(attempts), health.healthy) == (2, True)

    def always() -> None:
        raise KeyboardInterrupt

    thread = supervised_thread("crashing", always, health)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert reasons == ["thread crashing keeps crashing; last: KeyboardInterrupt: "]


class _PickyStore(SQLiteStore):
    """A real SQLite store that refuses any batch holding one poisoned result, as a
    database refuses a value it cannot store."""

    def finish_runs(self, results: Sequence[RunResult]) -> None:
        if any(result.result == '"poison"' for result in results):
            raise ValueError("this value cannot be stored")
        super().finish_runs(results)


def test_an_outcome_the_database_refuses_is_recorded_as_a_plain_failure(
    sqlite_url: str,
) -> None:
    scheduler = Scheduler(store=_PickyStore(sqlite_url), settings=FAST, timezone="UTC")
    try:
        scheduler.start()
        _add_canary(scheduler)
        scheduler.add_job(jobs.echo, args=["poison"], id="poison")
        scheduler.add_job(jobs.add, args=[1, 1], id="fine")
        (poisoned,) = eventually(lambda: _final(scheduler, "poison"))
        (fine,) = eventually(lambda: _final(scheduler, "fine"))
        assert (poisoned.outcome, poisoned.result) == (Outcome.FAILED, None)
        assert poisoned.error == "the run's outcome could not be recorded (ValueError)"
        assert (fine.outcome, fine.result) == (Outcome.SUCCEEDED, "2")
        _canary_keeps_firing(scheduler)
        _settle(scheduler)
    finally:
        scheduler.close()


def test_a_stopped_scheduler_runs_a_job_inline_as_a_short_lived_node(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()
    scheduler.add_job(jobs.add, args=[2, 2], next_run_time=None, id="ok")
    scheduler.add_job(jobs.keyboard_interrupt, next_run_time=None, id="ctrl-c")
    scheduler.run_job("ok")
    (run,) = scheduler.get_runs("ok")
    assert (run.outcome, run.result, run.manual) == (Outcome.SUCCEEDED, "4", True)
    assert run.node_id is not None
    assert run.started_at is not None
    with pytest.raises(KeyboardInterrupt):
        scheduler.run_job("ctrl-c")
    (interrupted,) = scheduler.get_runs("ctrl-c")
    assert interrupted.outcome is Outcome.INTERRUPTED
    nodes = scheduler.get_nodes(include_stopped=True)
    assert {node.id for node in nodes} == {run.node_id, interrupted.node_id}
    assert {node.state.value for node in nodes} == {"stopped"}


def test_concurrent_inline_runs_are_nodes_of_their_own(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    """Request threads of a web process that does not run the scheduler may run jobs now
    at the same time: each inline run registers, heartbeats and stops its own node."""
    scheduler = make_scheduler()
    release = tmp_path / "release"
    scheduler.add_job(jobs.wait_for_file, args=[str(release), 60], next_run_time=None, id="long")
    scheduler.add_job(jobs.add, args=[1, 1], next_run_time=None, id="short")
    long_run = threading.Thread(target=scheduler.run_job, args=("long",))
    long_run.start()
    (running,) = eventually(lambda: scheduler.get_runs("long"))
    scheduler.run_job("short")
    (short,) = scheduler.get_runs("short")
    assert short.node_id != running.node_id
    assert scheduler.get_node(running.node_id).state.value == "running"
    release.touch()
    long_run.join(timeout=60)
    (finished,) = scheduler.get_runs("long")
    assert finished.outcome is Outcome.SUCCEEDED
    nodes = scheduler.get_nodes(include_stopped=True)
    assert {node.id: node.state.value for node in nodes} == {
        running.node_id: "stopped",
        short.node_id: "stopped",
    }


@pytest.mark.slow
def test_shutdown_kills_process_pool_workers_still_running_after_the_grace_period(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path
) -> None:
    settings = EngineSettings(
        poll_interval=0.05, heartbeat_interval=0.2, node_timeout=1.0, shutdown_grace=0.5
    )
    pool = {"type": "processpool", "max_workers": 1}
    scheduler = make_scheduler(settings=settings, executors={"processes": pool})
    scheduler.start()
    never = str(tmp_path / "never-created")
    scheduler.add_job(
        jobs.wait_for_file, args=[never, 3600], executor="processes",
        misfire_grace_time=None, id="stuck"
    )  # fmt: skip
    eventually(lambda: any(r.started_at for r in scheduler.get_runs("stuck")), timeout=60)
    assert multiprocessing.active_children()
    scheduler.shutdown(wait=True)
    assert scheduler.get_runs("stuck")[0].outcome is Outcome.INTERRUPTED
    eventually(lambda: not multiprocessing.active_children(), timeout=30)


def test_ctrl_c_in_a_listener_on_the_main_thread_still_stops_the_application(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    scheduler = make_scheduler()

    def listener(event: SchedulerEvent) -> None:
        raise KeyboardInterrupt

    scheduler.add_listener(listener, EVENT_JOB_ADDED)
    # the main thread is the application's: Ctrl+C (or serve's signal handler) must not
    # be swallowed there, unlike on tickwork's own threads
    with pytest.raises(KeyboardInterrupt):
        scheduler.add_job(jobs.record, next_run_time=None, id="added")
    assert scheduler.get_job("added") is not None
