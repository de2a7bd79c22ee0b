"""APScheduler 3.11 side by side: the same calls on a ``BackgroundScheduler`` with a
``MemoryJobStore`` and on tickwork must give the same Job behaviour and the same events,
so a difference shows as a failing comparison (issue 13, drop-in fidelity)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from tests import jobs
from tests.conftest import eventually
from tickwork import Scheduler
from tickwork.events import (
    EVENT_ALL_JOBS_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
)
from tickwork.exceptions import InvalidJobError, JobNotBoundError
from tickwork.job import Job

#: The attributes APScheduler 3's events have.
ATTRIBUTES = (
    "code",
    "alias",
    "job_id",
    "jobstore",
    "scheduled_run_time",
    "scheduled_run_times",
    "retval",
    "exception",
    "traceback",
)


def shape(event: Any) -> tuple[Any, ...]:
    """An event as comparable across the two libraries: class name, then each attribute
    APScheduler has (its type for times, exceptions and tracebacks)."""
    values: list[Any] = [type(event).__name__]
    for name in ATTRIBUTES:
        if not hasattr(event, name):
            values.append("-")
            continue
        value = getattr(event, name)
        if name in ("scheduled_run_time", "exception", "traceback") and value is not None:
            value = type(value).__name__
        elif name == "scheduled_run_times":
            value = (type(value).__name__, len(value))
        values.append(value)
    return tuple(values)


@pytest.fixture
def oracle() -> Iterator[BackgroundScheduler]:
    aps = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
    yield aps
    if aps.running:
        aps.shutdown()


def record_events(target: Any) -> list[Any]:
    events: list[Any] = []
    target.add_listener(events.append)
    return events


def test_job_methods_behave_as_apschedulers(
    oracle: BackgroundScheduler, scheduler: Scheduler
) -> None:
    oracle.start(paused=True)
    scheduler.start(paused=True)
    theirs = oracle.add_job(jobs.record, "interval", id="j", seconds=100, name="tick")
    ours = scheduler.add_job(id="j", func=jobs.record, trigger="interval", seconds=100)
    ours = ours.modify(name="tick")
    assert repr(ours) == repr(theirs) == "<Job (id=j name=tick)>"
    assert ours.func == jobs.record
    assert theirs.func == jobs.record

    steps: list[tuple[str, Callable[[Any], Any]]] = [
        ("pause", lambda job: job.pause()),
        ("resume", lambda job: job.resume()),
        ("reschedule", lambda job: job.reschedule("interval", seconds=50)),
        ("modify", lambda job: job.modify(max_instances=3, coalesce=False)),
    ]
    for step, call in steps:
        assert call(theirs) is theirs  # APScheduler updates its object in place
        ours = call(ours)  # tickwork returns the job as stored after the change
        assert str(ours).split(", next run at")[0] == str(theirs).split(", next run at")[0], step
        assert (ours.next_run_time is None) == (theirs.next_run_time is None), step
        assert ours == scheduler.get_job("j"), step
    assert (
        (ours.max_instances, ours.coalesce) == (theirs.max_instances, theirs.coalesce) == (3, False)
    )
    assert str(ours.trigger) == str(theirs.trigger) == "interval[0:00:50]"

    assert theirs.remove() is None
    ours.remove()
    assert oracle.get_job("j") is None
    assert scheduler.get_job("j") is None


def test_every_method_returns_bound_jobs(scheduler: Scheduler) -> None:
    added = scheduler.add_job(id="a", func=jobs.record, trigger="interval", seconds=100)
    [more] = scheduler.add_jobs(
        [{"id": "b", "func": jobs.record, "trigger": "interval", "seconds": 100}]
    )
    returned = [
        added,
        more,
        scheduler.get_job("a"),
        *scheduler.get_jobs(),
        *scheduler.iter_jobs(page_size=1),
        scheduler.modify_job("a", name="x"),
        scheduler.reschedule_job("a", trigger="interval", seconds=10),
        scheduler.pause_job("a"),
        scheduler.resume_job("a"),
        scheduler.run_job("b"),
    ]
    for job in returned:
        assert isinstance(job, Job)
        assert job.func is jobs.record
    # binding stays out of the fields, the row, the JSON and equality
    assert "_owner" not in [item.name for item in dataclasses.fields(Job)]
    copy = dataclasses.replace(added)
    assert copy == added
    assert copy.to_dict() == added.to_dict()


def test_an_unbound_job_names_what_is_missing(scheduler: Scheduler) -> None:
    job = scheduler.add_job(id="a", func=jobs.record, trigger="interval", seconds=100)
    unbound = dataclasses.replace(job)
    calls: list[Callable[[], Any]] = [
        unbound.pause,
        unbound.resume,
        unbound.remove,
        lambda: unbound.modify(name="x"),
        lambda: unbound.reschedule("interval", seconds=5),
        lambda: unbound.func,
    ]
    for call in calls:
        with pytest.raises(JobNotBoundError, match=r"'a'\.\w+ needs the scheduler"):
            call()
    assert scheduler.get_job("a") == job  # nothing changed


def test_func_of_a_job_whose_module_is_gone_or_no_longer_defines_it(
    make_scheduler: Callable[..., Scheduler], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fidelity_gone.py").write_text("def work() -> None:\n    pass\n")
    (tmp_path / "fidelity_moved.py").write_text("def work() -> None:\n    pass\n")
    writer = make_scheduler()
    for name in ("gone", "moved"):
        writer.add_job(id=name, func=f"fidelity_{name}:work", trigger="interval", seconds=100)
    (tmp_path / "fidelity_gone.py").unlink()
    (tmp_path / "fidelity_moved.py").write_text("from os.path import join as work\n")
    for name in ("gone", "moved"):
        monkeypatch.delitem(sys.modules, f"fidelity_{name}")

    reader = make_scheduler()  # a fresh process's view: nothing resolved yet
    for name in ("gone", "moved"):
        job = reader.get_job(name)
        assert job is not None
        with pytest.raises(InvalidJobError, match=f"job '{name}': func 'fidelity_{name}:work'"):
            _ = job.func
    # the others keep working: listing, editing and removing need no callable
    assert [job.id for job in reader.get_jobs()] == ["gone", "moved"]
    gone = reader.get_job("gone")
    assert gone is not None
    assert gone.pause().paused
    gone.remove()
    assert reader.get_job("gone") is None


def test_api_events_match_apschedulers(oracle: BackgroundScheduler, scheduler: Scheduler) -> None:
    oracle.start(paused=True)
    scheduler.start(paused=True)
    theirs, ours = record_events(oracle), record_events(scheduler)
    for target in (oracle, scheduler):
        kwargs: dict[str, Any] = {"func": jobs.record, "trigger": "interval", "seconds": 100}
        job = target.add_job(id="j", **kwargs)
        target.add_job(id="k", replace_existing=True, **kwargs)
        target.add_job(id="k", replace_existing=True, **kwargs)
        job.modify(name="n")
        job.pause()
        job.resume()
        job.reschedule("interval", seconds=10)
        target.remove_job("k")
        target.remove_all_jobs()
        target.remove_all_jobs(jobstore="default")
    assert [shape(e) for e in ours] == [shape(e) for e in theirs]
    assert [e.code for e in ours] == [
        EVENT_JOB_ADDED,
        EVENT_JOB_ADDED,
        EVENT_JOB_ADDED,
        *[EVENT_JOB_MODIFIED] * 4,
        EVENT_JOB_REMOVED,
        EVENT_ALL_JOBS_REMOVED,
        EVENT_ALL_JOBS_REMOVED,
    ]


def test_scheduler_events_match_apschedulers(
    oracle: BackgroundScheduler, scheduler: Scheduler
) -> None:
    # an executor given explicitly: APScheduler adds (and announces) its default at start
    from apscheduler.executors.pool import ThreadPoolExecutor

    oracle.add_executor(ThreadPoolExecutor(), "default")
    theirs, ours = record_events(oracle), record_events(scheduler)
    for target in (oracle, scheduler):
        target.start()
        target.pause()
        target.resume()
        target.shutdown()
    assert [shape(e) for e in ours] == [shape(e) for e in theirs]
    assert [e.code for e in ours] == [
        EVENT_SCHEDULER_STARTED,
        EVENT_SCHEDULER_PAUSED,
        EVENT_SCHEDULER_RESUMED,
        EVENT_SCHEDULER_SHUTDOWN,
    ]


def run_date_jobs(target: Any) -> list[Any]:
    """A succeeding and a failing one-shot job; the events once both have finished."""
    events = record_events(target)
    target.start()
    target.add_job(id="ok", func=jobs.add, trigger="date", args=[40, 2])
    target.add_job(id="bad", func=jobs.fail, trigger="date", args=["broken"])
    done = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
    eventually(lambda: len([e for e in events if e.code & done]) == 2)
    eventually(lambda: len([e for e in events if e.code == EVENT_JOB_REMOVED]) == 2)
    return events


def test_execution_events_match_apschedulers(
    oracle: BackgroundScheduler, scheduler: Scheduler
) -> None:
    theirs, ours = run_date_jobs(oracle), run_date_jobs(scheduler)
    for job_id in ("ok", "bad"):
        # the engine's events come from several threads in either library: compare per job,
        # in a fixed order
        ours_of = sorted(shape(e) for e in ours if getattr(e, "job_id", None) == job_id)
        theirs_of = sorted(shape(e) for e in theirs if getattr(e, "job_id", None) == job_id)
        assert ours_of == theirs_of, job_id
    codes = {e.code for e in ours if getattr(e, "job_id", None) == "ok"}
    assert codes == {EVENT_JOB_ADDED, EVENT_JOB_SUBMITTED, EVENT_JOB_EXECUTED, EVENT_JOB_REMOVED}
    executed = next(e for e in ours if e.code == EVENT_JOB_EXECUTED)
    error = next(e for e in ours if e.code == EVENT_JOB_ERROR)
    submitted = next(e for e in ours if e.code == EVENT_JOB_SUBMITTED and e.job_id == "bad")
    assert executed.retval == 42
    assert isinstance(error.exception, RuntimeError)
    assert error.exception.args == ("broken",)
    assert "in fail" in error.traceback
    assert submitted.scheduled_run_times == [error.scheduled_run_time]
