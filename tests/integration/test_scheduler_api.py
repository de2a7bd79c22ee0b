"""Every method of the Python API, including its error cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests import jobs
from tests.conftest import eventually
from tickwork import (
    STATE_PAUSED,
    STATE_RUNNING,
    STATE_STOPPED,
    CallableNotAllowedError,
    ConfigurationError,
    ConflictError,
    InvalidJobError,
    JobLookupError,
    ManualClock,
    MaxInstancesReachedError,
    Outcome,
    Run,
    Scheduler,
    SchedulerStateError,
    TriggerArgumentError,
)
from tickwork.events import (
    EVENT_ALL,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
    SchedulerEvent,
)
from tickwork.triggers import CronTrigger

FAR = datetime(2099, 1, 1, tzinfo=UTC)


def test_add_and_get_job_round_trip(scheduler: Scheduler) -> None:
    added = scheduler.add_job(
        jobs.record,
        trigger="cron",
        args=[1, "two"],
        kwargs={"three": [3]},
        hour="9",
        minute="30",
        name="daily report",
        misfire_grace_time=60,
        coalesce=False,
        max_instances=3,
        id="report",
    )
    stored = scheduler.get_job("report")
    assert stored == added
    assert stored is not None
    assert stored.func_ref == "tests.jobs:record"
    assert stored.args == (1, "two")
    assert stored.kwargs == {"three": [3]}
    assert stored.name == "daily report"
    assert (stored.misfire_grace_time, stored.coalesce, stored.max_instances) == (60, False, 3)
    assert isinstance(stored.trigger, CronTrigger)
    assert stored.next_run_time is not None
    assert stored.next_run_time.hour == 9
    assert stored.next_run_time.minute == 30


def test_add_job_accepts_a_reference_string(scheduler: Scheduler) -> None:
    job = scheduler.add_job("tests.jobs:add", trigger="interval", seconds=5, args=[1, 2], id="s")
    assert job.func_ref == "tests.jobs:add"
    assert job.name == "add"


def test_job_defaults_apply(make_scheduler: Callable[..., Scheduler]) -> None:
    defaults = {"misfire_grace_time": 30, "max_instances": 4, "timeout": 90}
    scheduler = make_scheduler(job_defaults=defaults)
    job = scheduler.add_job(jobs.record, trigger="interval", minutes=1, id="d")
    assert job.misfire_grace_time == 30
    assert job.max_instances == 4
    assert job.coalesce is True
    assert job.timeout == 90
    assert scheduler.get_job("d") == job
    untimed = scheduler.add_job(
        id="u", func=jobs.record, trigger="interval", minutes=1, timeout=None
    )
    assert untimed.timeout is None


def test_unknown_job_default_is_refused(database_url: str) -> None:
    with pytest.raises(ConfigurationError, match="misfire_grace"):
        Scheduler(database_url, job_defaults={"misfire_grace": 3})


def test_duplicate_id_conflicts_and_keeps_the_original(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="interval", seconds=5, id="dup")
    with pytest.raises(ConflictError, match="dup"):
        scheduler.add_job(jobs.add, trigger="interval", seconds=9, id="dup")
    stored = scheduler.get_job("dup")
    assert stored is not None
    assert stored.func_ref == "tests.jobs:record"


def test_replace_existing_replaces(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="interval", seconds=5, id="dup")
    scheduler.add_job(jobs.add, trigger="interval", seconds=9, replace_existing=True, id="dup")
    stored = scheduler.get_job("dup")
    assert stored is not None
    assert stored.func_ref == "tests.jobs:add"
    assert scheduler.count_jobs() == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"args": [object()]}, InvalidJobError, "args"),
        ({"kwargs": {"when": datetime.now(UTC)}}, InvalidJobError, "kwargs"),
        ({"args": [float("nan")]}, InvalidJobError, "args"),
        ({"args": ["a\x00b"]}, InvalidJobError, "NUL"),
        ({"kwargs": {"k": {"deep": "\x00"}}}, InvalidJobError, "NUL"),
        ({"name": "bad\x00name"}, InvalidJobError, "NUL"),
        ({"kwargs": {1: "x"}}, InvalidJobError, "kwargs"),
        ({"max_instances": 0}, InvalidJobError, "max_instances"),
        ({"misfire_grace_time": -1}, InvalidJobError, "misfire_grace_time"),
        ({"coalesce": "yes"}, InvalidJobError, "coalesce"),
        ({"executor": "nope"}, InvalidJobError, "executor"),
        ({"trigger": "hourly"}, TriggerArgumentError, "hourly"),
        ({"trigger": "interval", "secs": 3}, TriggerArgumentError, "secs"),
        ({"trigger": "cron", "hour": "25"}, TriggerArgumentError, "hour"),
        ({"jobstore": "other"}, ConfigurationError, "jobstore"),
    ],
)
def test_bad_add_job_arguments_are_refused_and_store_nothing(
    scheduler: Scheduler, kwargs: dict[str, object], error: type[Exception], fragment: str
) -> None:
    kwargs.setdefault("trigger", "interval")
    if kwargs["trigger"] == "interval" and not {"secs"} & set(kwargs):
        kwargs.setdefault("seconds", 5)
    with pytest.raises(error, match=fragment):
        scheduler.add_job(jobs.record, **kwargs, id="bad")  # type: ignore[arg-type]
    assert scheduler.get_job("bad") is None
    assert scheduler.count_jobs() == 0


def test_unimportable_callables_are_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidJobError, match="lambda"):
        scheduler.add_job(lambda: None, trigger="interval", seconds=1, id="l")
    with pytest.raises(InvalidJobError, match="cannot be imported"):
        scheduler.add_job("tests.jobs:missing", trigger="interval", seconds=1, id="m")
    with pytest.raises(InvalidJobError, match="module:qualname"):
        scheduler.add_job("no_colon", trigger="interval", seconds=1, id="n")
    assert scheduler.count_jobs() == 0


def test_get_job_returns_none_for_unknown_id(scheduler: Scheduler) -> None:
    assert scheduler.get_job("missing") is None


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.remove_job("missing"),
        lambda s: s.modify_job("missing", name="x"),
        lambda s: s.reschedule_job("missing", trigger="interval", seconds=1),
        lambda s: s.pause_job("missing"),
        lambda s: s.resume_job("missing"),
        lambda s: s.run_job("missing"),
    ],
)
def test_unknown_job_id_raises_lookup_error(
    scheduler: Scheduler, call: Callable[[Scheduler], object]
) -> None:
    with pytest.raises(JobLookupError, match="missing"):
        call(scheduler)


def test_get_jobs_orders_by_next_run_time_with_paused_last(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, id="late")
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR - timedelta(days=1), id="early")
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, next_run_time=None, id="paused")
    assert [job.id for job in scheduler.get_jobs()] == ["early", "late", "paused"]


def test_iter_jobs_pages_through_everything(scheduler: Scheduler) -> None:
    scheduler.add_jobs(
        {"id": f"job-{n:03}", "func": jobs.record, "trigger": "date", "run_date": FAR}
        for n in range(25)
    )
    assert [job.id for job in scheduler.iter_jobs(page_size=7)] == [
        f"job-{n:03}" for n in range(25)
    ]


def test_add_jobs_is_all_or_nothing(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, id="taken")
    with pytest.raises(ConflictError, match="taken"):
        scheduler.add_jobs(
            [
                {"id": "new", "func": jobs.record, "trigger": "date", "run_date": FAR},
                {"id": "taken", "func": jobs.record, "trigger": "date", "run_date": FAR},
            ]
        )
    with pytest.raises(InvalidJobError, match="args"):
        scheduler.add_jobs(
            [
                {"id": "a", "func": jobs.record, "trigger": "date", "run_date": FAR},
                {"id": "b", "func": jobs.record, "args": [{1, 2}], "run_date": FAR},
            ]
        )
    assert [job.id for job in scheduler.get_jobs()] == ["taken"]


def test_modify_job_changes_options(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="interval", seconds=5, id="m")
    modified = scheduler.modify_job("m", name="renamed", args=[9], max_instances=2, func=jobs.add)
    stored = scheduler.get_job("m")
    assert stored == modified
    assert (modified.name, modified.args, modified.max_instances) == ("renamed", (9,), 2)
    assert modified.func_ref == "tests.jobs:add"


def test_modify_job_refuses_unknown_fields_and_bad_values(scheduler: Scheduler) -> None:
    original = scheduler.add_job(jobs.record, trigger="interval", seconds=5, id="m")
    with pytest.raises(InvalidJobError, match="colour"):
        scheduler.modify_job("m", colour="red")
    with pytest.raises(InvalidJobError, match="max_instances"):
        scheduler.modify_job("m", max_instances=-1)
    with pytest.raises(InvalidJobError, match="args"):
        scheduler.modify_job("m", args=[object()])
    assert scheduler.get_job("m") == original


def test_reschedule_job_replaces_trigger_and_next_run_time(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="interval", hours=5, id="r")
    job = scheduler.reschedule_job("r", trigger="cron", minute="*/15")
    assert isinstance(job.trigger, CronTrigger)
    assert job.next_run_time is not None
    assert job.next_run_time.minute % 15 == 0
    assert scheduler.get_job("r") == job


def test_pause_and_resume_job(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="interval", seconds=30, id="p")
    paused = scheduler.pause_job("p")
    assert paused.next_run_time is None
    assert paused.paused
    resumed = scheduler.resume_job("p")
    assert resumed is not None
    assert resumed.next_run_time is not None


def test_resuming_an_exhausted_date_job_removes_it(
    make_scheduler: Callable[..., Scheduler],
) -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    scheduler = make_scheduler(clock=clock)
    scheduler.add_job(jobs.record, trigger="date", run_date="2026-01-02T00:00:00+00:00", id="once")
    scheduler.pause_job("once")
    clock.set(datetime(2026, 1, 3, tzinfo=UTC))
    scheduler.add_job(jobs.record, trigger="interval", seconds=1, id="other")
    assert scheduler.resume_job("once") in (None, scheduler.get_job("once"))


def test_remove_job_and_remove_all_jobs(scheduler: Scheduler) -> None:
    for name in ("a", "b", "c"):
        scheduler.add_job(jobs.record, trigger="interval", seconds=5, id=name)
    scheduler.remove_job("a")
    assert scheduler.get_job("a") is None
    assert scheduler.count_jobs() == 2
    scheduler.remove_all_jobs()
    assert scheduler.get_jobs() == []


def test_start_and_shutdown_states(scheduler: Scheduler) -> None:
    assert scheduler.state == STATE_STOPPED
    with pytest.raises(SchedulerStateError, match="not running"):
        scheduler.shutdown()
    scheduler.start()
    assert scheduler.state == STATE_RUNNING
    assert scheduler.running
    with pytest.raises(SchedulerStateError, match="already running"):
        scheduler.start()
    scheduler.pause()
    assert scheduler.state == STATE_PAUSED
    scheduler.resume()
    assert scheduler.state == STATE_RUNNING
    scheduler.shutdown()
    assert scheduler.state == STATE_STOPPED
    assert not scheduler.running


def test_jobs_fire_and_are_recorded(scheduler: Scheduler) -> None:
    scheduler.start()
    scheduler.add_job(jobs.record, args=["x"], id="ok")
    scheduler.add_job(jobs.fail, args=["kaput"], id="bad")
    scheduler.add_job(jobs.async_record, args=["y"], id="aio")
    runs = eventually(lambda: len(_finished(scheduler)) == 3 and _finished(scheduler))
    by_job = {run.job_id: run for run in runs}
    assert by_job["ok"].outcome is Outcome.SUCCEEDED
    assert by_job["ok"].result == '"ok"'
    assert by_job["ok"].node_id == scheduler.node_id
    assert by_job["ok"].duration is not None
    assert by_job["bad"].outcome is Outcome.FAILED
    assert by_job["bad"].error == "RuntimeError: kaput"
    assert "Traceback" in (by_job["bad"].traceback or "")
    assert by_job["aio"].outcome is Outcome.SUCCEEDED
    assert by_job["aio"].result == '"async-ok"'
    assert ("x",) in jobs.calls
    assert ("async", "y") in jobs.calls
    # date jobs with no fire time left are removed, their history stays
    assert scheduler.get_jobs() == []


def test_run_job_runs_now_and_keeps_schedule(scheduler: Scheduler) -> None:
    scheduler.start()
    job = scheduler.add_job(jobs.record, trigger="date", run_date=FAR, args=["now"], id="n")
    scheduler.run_job("n")
    runs = eventually(lambda: _finished(scheduler))
    assert runs[0].manual
    assert runs[0].outcome is Outcome.SUCCEEDED
    assert scheduler.get_job("n") == job


def test_run_job_when_stopped_runs_inline_and_records(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, args=["inline"], id="n")
    scheduler.run_job("n")
    assert ("inline",) in jobs.calls
    (run,) = scheduler.get_runs("n")
    assert run.outcome is Outcome.SUCCEEDED
    assert run.manual


def test_run_now_is_refused_while_max_instances_runs_are_running(scheduler: Scheduler) -> None:
    """The store counts running runs and inserts the manual one in one locked transaction,
    so a run-now from any node sees the others; when full, nothing is recorded."""
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, max_instances=2, id="two")
    scheduler.store.start_manual_run("two", None)
    scheduler.store.start_manual_run("two", None)
    with pytest.raises(MaxInstancesReachedError, match="max_instances") as caught:
        scheduler.run_job("two")
    assert (caught.value.job_id, caught.value.max_instances) == ("two", 2)
    assert len(scheduler.get_runs("two")) == 2
    assert jobs.calls == []


def test_trusted_string_references_resolve_only_what_the_module_defines(
    scheduler: Scheduler,
) -> None:
    """The resolver used at fire time is the same for trusted callers: no attribute walk."""
    for ref in ("tests.jobs:os.system", "tests.jobs:time.sleep", "os:system"):
        with pytest.raises(CallableNotAllowedError):
            scheduler.add_job(ref, trigger="date", run_date=FAR, id="x")
    assert scheduler.add_job("posix:system", trigger="date", run_date=FAR, id="x").func_ref == (
        "posix:system"
    )


def test_listeners_receive_events_matching_their_mask(scheduler: Scheduler) -> None:
    everything: list[SchedulerEvent] = []
    executions: list[SchedulerEvent] = []
    scheduler.add_listener(everything.append, EVENT_ALL)
    scheduler.add_listener(executions.append, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    scheduler.add_job(jobs.record, trigger="interval", hours=1, next_run_time=None, id="e")
    scheduler.modify_job("e", name="renamed")
    scheduler.add_job(jobs.fail, id="boom")
    eventually(lambda: len(executions) == 1)
    scheduler.pause()
    scheduler.resume()
    scheduler.remove_job("e")
    scheduler.shutdown()
    codes = [event.code for event in everything]
    for code in (
        EVENT_SCHEDULER_STARTED,
        EVENT_JOB_ADDED,
        EVENT_JOB_MODIFIED,
        EVENT_JOB_ERROR,
        EVENT_SCHEDULER_PAUSED,
        EVENT_SCHEDULER_RESUMED,
        EVENT_JOB_REMOVED,
        EVENT_SCHEDULER_SHUTDOWN,
    ):
        assert code in codes
    (error,) = executions
    assert isinstance(error, JobExecutionEvent)
    assert error.job_id == "boom"
    assert isinstance(error.exception, RuntimeError)
    scheduler.remove_listener(everything.append)
    scheduler.start()
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, id="later")
    assert len(everything) == len(codes)


def test_task_registry_and_allow_list(make_scheduler: Callable[..., Scheduler]) -> None:
    scheduler = make_scheduler(allowed_callables=["tests.jobs:a*"])

    @scheduler.task(name="greeter")
    def greet() -> str:
        return "hi"

    assert "greeter" in scheduler.registry.names
    job = scheduler.add_job("greeter", trigger="interval", seconds=5, id="g")
    assert job.func_ref == "greeter"
    scheduler.registry.check_allowed("greeter")
    scheduler.registry.check_allowed("tests.jobs:add")
    with pytest.raises(ConfigurationError, match="not a registered task"):
        scheduler.registry.check_allowed("os:system")


def test_flask_apscheduler_style_task_decorator_schedules(scheduler: Scheduler) -> None:
    @scheduler.task("interval", id="ticker", seconds=30)
    def ticker() -> None:
        """Registered by name, so even a local function can be scheduled."""

    job = scheduler.get_job("ticker")
    assert job is not None
    assert job.trigger.to_dict()["seconds"] == 30


def test_get_runs_filters_and_paginates(scheduler: Scheduler) -> None:
    scheduler.add_job(jobs.record, trigger="date", run_date=FAR, id="a")
    scheduler.add_job(jobs.fail, trigger="date", run_date=FAR, id="b")
    for _ in range(3):
        scheduler.run_job("a")
        scheduler.run_job("b")
    assert len(scheduler.get_runs()) == 6
    assert {run.job_id for run in scheduler.get_runs("a")} == {"a"}
    failed = scheduler.get_runs(outcome="failed")
    assert [run.job_id for run in failed] == ["b", "b", "b"]
    first_page = scheduler.get_runs(limit=4)
    second_page = scheduler.get_runs(limit=4, before=first_page[-1].id)
    assert len(second_page) == 2
    assert {run.id for run in first_page}.isdisjoint(run.id for run in second_page)
    with pytest.raises(ConfigurationError, match="outcome"):
        scheduler.get_runs(outcome="exploded")
    with pytest.raises(ConfigurationError, match="limit"):
        scheduler.get_runs(limit=0)


def _finished(scheduler: Scheduler) -> list[Run]:
    return [run for run in scheduler.get_runs() if run.outcome is not Outcome.RUNNING]
