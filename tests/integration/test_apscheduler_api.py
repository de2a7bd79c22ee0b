"""APScheduler 3's user guide, run on tickwork and on the real APScheduler 3.11 side by side.

Each test does the same thing to both and compares what is observable (signatures, ids,
names, printed job lists, job states), so a difference shows up as a failing comparison.
"""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from tests import jobs
from tests.conftest import eventually
from tickwork import Scheduler
from tickwork.exceptions import ConflictError, InvalidJobError, JobNotBoundError
from tickwork.job import Job
from tickwork.scheduler import STATE_PAUSED, STATE_RUNNING
from tickwork.triggers import IntervalTrigger

FAR = datetime(2040, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def aps() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def test_add_job_has_apschedulers_parameters_in_its_order() -> None:
    ours = list(inspect.signature(Scheduler.add_job).parameters)
    theirs = list(inspect.signature(BaseScheduler.add_job).parameters)
    assert ours == theirs


def test_the_user_guides_first_add_job_line_works(
    scheduler: Scheduler, aps: BackgroundScheduler
) -> None:
    ours = scheduler.add_job(jobs.record, "interval", minutes=2)
    theirs = aps.add_job(jobs.record, "interval", minutes=2)
    assert re.fullmatch(r"[0-9a-f]{32}", ours.id)
    assert re.fullmatch(r"[0-9a-f]{32}", theirs.id)
    assert ours.name == theirs.name == "record"
    assert scheduler.get_job(ours.id) == ours


def test_every_parameter_can_be_given_by_position(
    scheduler: Scheduler, aps: BackgroundScheduler
) -> None:
    arguments: tuple[Any, ...] = (
        jobs.record,
        "date",
        ["a"],
        {},
        "report",
        "Report",
        30,
        False,
        3,
        FAR,
    )
    ours = scheduler.add_job(*arguments, run_date=FAR)
    theirs = aps.add_job(*arguments, run_date=FAR)
    for attribute in (
        "id",
        "name",
        "args",
        "kwargs",
        "misfire_grace_time",
        "coalesce",
        "max_instances",
        "next_run_time",
        "executor",
    ):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute


def test_a_textual_reference_gets_the_name_apscheduler_derives(
    scheduler: Scheduler, aps: BackgroundScheduler
) -> None:
    ref = "tests.jobs:record"
    assert scheduler.add_job(ref, "date", run_date=FAR).name == (
        aps.add_job(ref, "date", run_date=FAR).name
    )


def test_a_duplicate_id_is_refused_and_stores_nothing(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, "date", id="once", run_date=FAR, args=["first"])
    with pytest.raises(ConflictError):
        scheduler.add_job(jobs.record, "date", id="once", run_date=FAR, args=["second"])
    stored = scheduler.get_job("once")
    assert stored is not None
    assert stored.args == ("first",)


def test_bad_input_by_position_names_the_field(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidJobError) as caught:
        scheduler.add_job(jobs.record, "date", None, None, "j", None, -5, run_date=FAR)
    assert caught.value.field == "misfire_grace_time"
    assert scheduler.get_jobs() == []


def test_scheduled_job_decorator_adds_and_returns_the_function(
    scheduler: Scheduler, aps: BackgroundScheduler
) -> None:
    def decorate(target: Scheduler | BackgroundScheduler) -> object:
        return target.scheduled_job("cron", id="evening", day_of_week="mon-fri", hour=17)(
            jobs.record
        )

    assert decorate(scheduler) is jobs.record
    assert decorate(aps) is jobs.record
    # the decorator runs at every import: a second time replaces the job, as in APScheduler
    decorate(scheduler)
    decorate(aps)
    ours, theirs = scheduler.get_job("evening"), aps.get_job("evening")
    assert ours is not None
    assert str(ours.trigger) == str(theirs.trigger)
    assert ours.name == theirs.name
    assert len(scheduler.get_jobs()) == len(aps.get_jobs()) == 1


def test_print_jobs_prints_what_apscheduler_prints(
    scheduler: Scheduler, aps: BackgroundScheduler
) -> None:
    def printed(target: Scheduler | BackgroundScheduler) -> str:
        out = io.StringIO()
        target.print_jobs(out=out)
        return out.getvalue()

    assert printed(scheduler) == printed(aps) == "Jobstore default:\n    No scheduled jobs\n"
    start = datetime(2039, 12, 31, 23, 0, tzinfo=UTC)
    for target in (scheduler, aps):
        target.add_job(jobs.record, "date", id="a", name="one-off", run_date=FAR)
        target.add_job(jobs.record, "interval", id="b", hours=2, start_date=start)
        target.add_job(jobs.record, "cron", id="c", hour=9, minute=30, start_date=start)
        target.add_job(jobs.record, "interval", id="d", seconds=5, next_run_time=None)
    assert printed(scheduler) == printed(aps)


def test_job_methods_change_the_stored_job_as_apschedulers_do(
    scheduler: Scheduler, aps: BackgroundScheduler
) -> None:
    start = datetime(2039, 6, 1, tzinfo=UTC)
    ours = scheduler.add_job(jobs.record, "interval", id="j", hours=1, start_date=start)
    theirs = aps.add_job(jobs.record, "interval", id="j", hours=1, start_date=start)
    assert (ours.func, theirs.func) == (jobs.record, jobs.record)

    assert ours.modify(name="renamed", args=["x"]).name == "renamed"
    theirs.modify(name="renamed", args=["x"])
    assert ours.pause().next_run_time is None
    theirs.pause()
    assert ours.resume().next_run_time is not None
    theirs.resume()
    ours.reschedule("interval", minutes=30, start_date=start)
    theirs.reschedule("interval", minutes=30, start_date=start)

    mine, apschedulers = scheduler.get_job("j"), aps.get_job("j")
    assert mine is not None
    assert (mine.name, mine.args, str(mine.trigger)) == (
        apschedulers.name,
        tuple(apschedulers.args),
        str(apschedulers.trigger),
    )
    assert isinstance(mine.trigger, IntervalTrigger)
    assert mine.trigger.interval == apschedulers.trigger.interval == timedelta(minutes=30)
    ours.remove()
    theirs.remove()
    assert scheduler.get_job("j") is None
    assert aps.get_job("j") is None


def test_a_job_not_from_a_scheduler_says_how_to_get_one(scheduler: Scheduler) -> None:
    stored = scheduler.add_job(jobs.record, "date", id="j", run_date=FAR)
    copy = Job(**{name: getattr(stored, name) for name in ("id", "func_ref", "trigger")})
    with pytest.raises(JobNotBoundError, match=r"scheduler\.get_job"):
        copy.pause()
    assert scheduler.get_job("j") == stored


def test_func_of_a_job_whose_module_is_gone_is_a_clear_error(scheduler: Scheduler) -> None:
    scheduler.add_job("tests.jobs:record", "date", id="gone", run_date=FAR)
    scheduler.store.update_job("gone", lambda job: job.evolve(func_ref="tests.no_such:thing"))
    job = scheduler.get_job("gone")
    assert job is not None
    with pytest.raises(InvalidJobError, match=r"tests\.no_such:thing") as caught:
        job.func  # noqa: B018
    assert caught.value.field == "func"
    assert [j.id for j in scheduler.get_jobs()] == ["gone"]


def test_start_paused_then_resume_runs_jobs_as_in_apscheduler(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    ours = make_scheduler()
    theirs = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")

    def steps(target: Scheduler | BackgroundScheduler, ran: Callable[[], bool]) -> list[int]:
        states = [target.state]
        target.add_job(jobs.record, "interval", id="tick", seconds=1, args=[id(target)])
        target.start(paused=True)
        states.append(target.state)
        target.resume()
        states.append(target.state)
        eventually(ran)
        target.pause()
        states.append(target.state)
        target.resume()
        states.append(target.state)
        target.shutdown(wait=False)
        states.append(target.state)
        return states

    def ran(target: object) -> Callable[[], bool]:
        return lambda: (id(target),) in jobs.calls

    assert steps(ours, ran(ours)) == steps(theirs, ran(theirs))


def test_resume_lifts_the_start_pause_but_not_an_explicit_node_pause(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    started_paused, node_paused = make_scheduler(), make_scheduler()
    started_paused.start(paused=True)
    node_paused.start()
    node_paused.pause_node()
    started_paused.pause()  # the cluster too

    started_paused.resume_cluster()  # the REST API's resume: every node keeps its own pause
    assert (started_paused.state, node_paused.state) == (STATE_PAUSED, STATE_PAUSED)

    node_paused.resume()  # lifts the global pause only: its node pause was explicit
    assert node_paused.state == STATE_PAUSED
    assert node_paused.get_node().is_paused

    started_paused.resume()  # APScheduler's idiom: this node runs now
    assert started_paused.state == STATE_RUNNING
    assert not started_paused.get_node().is_paused
    assert node_paused.get_node().is_paused

    started_paused.add_job(jobs.record, "interval", id="tick", seconds=1, args=["tick"])
    eventually(lambda: ("tick",) in jobs.calls)
    runs = started_paused.get_runs("tick")
    assert {run.node_id for run in runs} == {started_paused.node_id}


def test_an_explicit_node_pause_after_a_paused_start_is_kept_by_resume(
    scheduler: Scheduler,
) -> None:
    scheduler.start(paused=True)
    scheduler.resume_node()
    scheduler.pause_node()  # the operator's pause now, not the start's
    scheduler.resume()
    assert scheduler.state == STATE_PAUSED
