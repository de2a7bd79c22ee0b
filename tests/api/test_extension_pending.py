"""The extension before it has a scheduler, side by side with Flask-APScheduler 1.13.

Flask-APScheduler's scheduler exists from the constructor, so apps add jobs before
``init_app``; APScheduler keeps them pending until it starts. Tickwork keeps them pending
until the extension has its scheduler, checks each when it is given, and stores them all
in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

import flask
import flask_apscheduler
import pytest
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from tests.conftest import eventually
from tickwork import ConfigurationError, ConflictError, Outcome, Scheduler
from tickwork.events import EVENT_JOB_ADDED, JobEvent, SchedulerEvent
from tickwork.flask import APScheduler
from tickwork.flask.pending import PendingJob
from tickwork.triggers import CronTrigger, IntervalTrigger

#: tickwork's extension or Flask-APScheduler's (untyped, so the checks are on the tests).
Extension: TypeAlias = Any

FUNC = "tests.jobs:record"
contexts: list[bool] = []


def in_app_context() -> None:
    contexts.append(flask.has_app_context())


def theirs() -> Extension:
    return flask_apscheduler.APScheduler(BackgroundScheduler(timezone="UTC"))


def attach(
    made: list[APScheduler], extension: APScheduler, database_url: str, **config: Any
) -> Flask:
    app = Flask(__name__)
    app.config.update({"SCHEDULER_DATABASE_URL": database_url, "SCHEDULER_TIMEZONE": "UTC"})
    app.config.update(config)
    if extension not in made:
        made.append(extension)
    extension.init_app(app)
    return app


def stored(database_url: str) -> dict[str, dict[str, Any]]:
    """The jobs in the database, read by a scheduler of its own."""
    scheduler = Scheduler(database_url)
    try:
        return {job.id: job.to_dict() for job in scheduler.get_jobs()}
    finally:
        scheduler.close()


@pytest.mark.parametrize("extension", [APScheduler, theirs], ids=["tickwork", "fa"])
def test_jobs_added_before_init_app_are_pending(extension: Callable[[], Extension]) -> None:
    scheduler = extension()
    scheduler.add_job("a", FUNC, trigger="interval", seconds=30)
    scheduler.add_job("b", FUNC, trigger={"type": "cron", "hour": 3}, args=[1])
    assert [(job.id, job.pending, job.name) for job in scheduler.get_jobs()] == [
        ("a", True, "a"),
        ("b", True, "b"),
    ]
    b = scheduler.get_job("b")
    assert b.args == (1,)
    assert b.func_ref == FUNC
    assert scheduler.get_job("missing") is None
    scheduler.remove_job("a")
    with pytest.raises(KeyError):  # JobLookupError in both
        scheduler.remove_job("a")
    assert [job.id for job in scheduler.get_jobs()] == ["b"]
    scheduler.remove_all_jobs()
    assert scheduler.get_jobs() == []
    assert (scheduler.running, scheduler.state) == (False, 0)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"trigger": "interval", "secs": 5}, "secs"),
        ({"trigger": "cron", "hour": "99"}, "hour"),
        ({"trigger": "interval", "seconds": 5, "misfire_grace_time": -1}, "misfire_grace_time"),
        ({"trigger": "nonsense"}, "trigger"),
        ({"trigger": "date", "run_date": "tomorrow"}, "run_date"),
    ],
)
def test_bad_input_is_refused_at_add_job_as_there(arguments: dict[str, Any], field: str) -> None:
    ours, fa = APScheduler(), theirs()
    for scheduler in (ours, fa):
        scheduler.add_job("kept", FUNC, trigger="interval", seconds=30)
    with pytest.raises((TypeError, ValueError, LookupError)):
        fa.add_job("bad", FUNC, **arguments)
    with pytest.raises(ConfigurationError) as raised:
        ours.add_job("bad", FUNC, **arguments)
    assert raised.value.field == field
    assert [job.id for job in ours.get_jobs()] == [job.id for job in fa.get_jobs()] == ["kept"]


def test_a_bad_func_is_refused_at_add_job_as_there() -> None:
    with pytest.raises(LookupError):
        theirs().add_job("bad", "tests.no_such_module:f")
    with pytest.raises(ConfigurationError, match="no_such_module"):
        APScheduler().add_job("bad", "tests.no_such_module:f")
    with pytest.raises(ConfigurationError, match="func"):  # stored as JSON: no lambdas
        APScheduler().add_job("bad", lambda: None)
    with pytest.raises(ConfigurationError, match="args"):
        APScheduler().add_job("bad", FUNC, args=[object()])
    with pytest.raises(ConfigurationError, match="jobstore"):
        APScheduler().add_job("bad", FUNC, jobstore="other")


def test_a_taken_id_is_refused_as_there_only_earlier() -> None:
    """Flask-APScheduler keeps both and fails at start; tickwork refuses the second one."""
    fa = theirs()
    fa.add_job("same", FUNC, trigger="interval", seconds=30)
    fa.add_job("same", FUNC, trigger="interval", seconds=60)
    with pytest.raises(ConflictingIdError):
        fa.start(paused=True)
    ours = APScheduler()
    ours.add_job("same", FUNC, trigger="interval", seconds=30)
    with pytest.raises(ConflictError, match="same"):
        ours.add_job("same", FUNC, trigger="interval", seconds=60)
    job = ours.add_job("same", FUNC, trigger="interval", seconds=90, replace_existing=True)
    assert [entry.id for entry in ours.get_jobs()] == ["same"]
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval.total_seconds() == 90
    with pytest.raises(ConflictError, match="twice"):
        ours.add_jobs([{"id": "twice", "func": FUNC}, {"id": "twice", "func": FUNC}])
    assert [entry.id for entry in ours.get_jobs()] == ["same"]


def test_pending_jobs_are_stored_at_init_app_with_the_apps_config(
    made: list[APScheduler], database_url: str
) -> None:
    extension = APScheduler()
    added: list[str] = []
    extension.add_listener(
        lambda event: added.append(event.job_id) if isinstance(event, JobEvent) else None,
        EVENT_JOB_ADDED,
    )
    extension.add_job("cron", FUNC, trigger="cron", hour=9, max_instances=5)
    extension.add_job("plain", FUNC, trigger="interval", minutes=5)

    @extension.task("interval", id="task", minutes=1)
    def task_job() -> None: ...

    config_job = {"id": "configured", "func": FUNC, "trigger": "interval", "hours": 1}
    attach(
        made,
        extension,
        database_url,
        SCHEDULER_TIMEZONE="Asia/Tokyo",
        SCHEDULER_JOB_DEFAULTS={"max_instances": 3},
        SCHEDULER_JOBS=[config_job],
    )
    jobs = {job.id: job for job in extension.get_jobs()}
    assert sorted(jobs) == ["configured", "cron", "plain", "task"]
    assert not any(job.pending for job in jobs.values())
    cron = jobs["cron"].trigger
    assert isinstance(cron, CronTrigger)
    assert cron.timezone.key == "Asia/Tokyo"  # the config's zone, not the machine's
    assert (jobs["cron"].max_instances, jobs["plain"].max_instances) == (5, 3)
    assert jobs["task"].func_ref.endswith("task_job")
    assert sorted(added) == sorted(jobs)  # the listener was handed over first
    assert sorted(stored(database_url)) == sorted(jobs)


def test_pending_jobs_replace_stored_ones_so_a_second_start_works(
    made: list[APScheduler], database_url: str
) -> None:
    """Code before init_app runs at every start of every process, like SCHEDULER_JOBS."""
    for minutes in (5, 7):
        extension = APScheduler()
        extension.add_job("every", FUNC, trigger="interval", minutes=minutes)
        attach(made, extension, database_url)
    jobs = stored(database_url)
    assert list(jobs) == ["every"]
    assert jobs["every"]["trigger"]["minutes"] == 7


def test_one_bad_job_stores_none_and_names_the_job(
    made: list[APScheduler], database_url: str
) -> None:
    setup = APScheduler()
    setup.add_job("old", FUNC, trigger="interval", minutes=5)
    attach(made, setup, database_url)
    before = stored(database_url)
    extension = APScheduler()
    extension.add_job("old", FUNC, trigger="interval", minutes=9)
    extension.add_job("slow", FUNC, trigger="interval", minutes=1, executor="processes")
    with pytest.raises(ConfigurationError, match=r"job 'slow': executor 'processes'") as raised:
        attach(made, extension, database_url)
    assert raised.value.field == "executor"
    assert stored(database_url) == before
    # Nothing changed: the jobs are still pending, and fixing the config is enough.
    assert extension.app is None
    assert [job.pending for job in extension.get_jobs()] == [True, True]
    attach(made, extension, database_url, SCHEDULER_EXECUTORS={"processes": {"type": "threadpool"}})
    assert sorted(stored(database_url)) == ["old", "slow"]


def test_a_pending_job_conflicting_with_scheduler_jobs_stores_none(
    made: list[APScheduler], database_url: str
) -> None:
    """Flask-APScheduler fails at start too: both are added to the same scheduler."""
    extension = APScheduler()
    extension.add_job("same", FUNC, trigger="interval", minutes=5)
    config_jobs = [
        {"id": "other", "func": FUNC, "trigger": "interval", "minutes": 1},
        {"id": "same", "func": FUNC, "trigger": "interval", "minutes": 1},
    ]
    with pytest.raises(ConflictError, match="same"):
        attach(made, extension, database_url, SCHEDULER_JOBS=config_jobs)
    assert stored(database_url) == {}


def test_scheduler_jobs_errors_name_their_index(made: list[APScheduler], database_url: str) -> None:
    config_jobs = [{"id": "x", "func": FUNC, "trigger": "interval", "minutes": 1, "executor": "e"}]
    with pytest.raises(ConfigurationError, match=r"SCHEDULER_JOBS\[0\]: executor 'e'"):
        attach(made, APScheduler(), database_url, SCHEDULER_JOBS=config_jobs)


@pytest.mark.parametrize("extension", [APScheduler, theirs], ids=["tickwork", "fa"])
def test_pending_jobs_can_be_changed_paused_and_resumed(
    extension: Callable[[], Extension],
) -> None:
    scheduler = extension()
    scheduler.add_job("j", FUNC, trigger="interval", seconds=30, args=[1])
    scheduler.modify_job("j", name="renamed", args=[2])
    scheduler.pause_job("j")
    job = scheduler.get_job("j")
    assert (job.name, tuple(job.args), job.next_run_time) == ("renamed", (2,), None)
    scheduler.resume_job("j")
    assert scheduler.get_job("j").pending
    scheduler.modify_job("j", trigger="cron", hour=3)
    assert str(scheduler.get_job("j").trigger).startswith("cron[hour='3'")
    with pytest.raises(KeyError):
        scheduler.modify_job("missing", name="x")
    with pytest.raises((AttributeError, ValueError)):  # not a job field, without a trigger
        scheduler.modify_job("j", seconds=5)


def test_pending_changes_are_what_is_stored(made: list[APScheduler], database_url: str) -> None:
    extension = APScheduler()
    extension.add_job("paused", FUNC, trigger="interval", seconds=30, jitter=3)
    extension.pause_job("paused")
    extension.add_job("moved", FUNC, trigger="interval", seconds=30, jitter=3)
    extension.pause_job("moved")
    moved = extension.reschedule_job("moved", trigger="cron", hour=4)
    assert isinstance(moved, PendingJob)
    assert moved.next_run_time is not None  # rescheduling resumes, as in APScheduler
    with pytest.raises(ConfigurationError, match="seconds"):
        extension.modify_job("moved", seconds=5)
    extension.modify_job("moved", executor="elsewhere")  # the config decides if it exists
    assert extension.count_jobs() == 2
    assert [job.id for job in extension.iter_jobs()] == ["paused", "moved"]
    attach(made, extension, database_url, SCHEDULER_EXECUTORS={"elsewhere": {"type": "threadpool"}})
    jobs = stored(database_url)
    assert jobs["paused"]["next_run_time"] is None
    assert jobs["moved"]["executor"] == "elsewhere"
    assert jobs["paused"]["trigger"]["jitter"] == 3
    assert jobs["moved"]["next_run_time"] is not None
    assert jobs["moved"]["trigger"]["type"] == "cron"
    assert jobs["moved"]["trigger"]["jitter"] is None  # the old trigger's arguments went


def test_pending_tasks_listeners_and_auth(made: list[APScheduler], database_url: str) -> None:
    extension = APScheduler()
    events: list[SchedulerEvent] = []
    extension.add_listener(events.append)
    extension.remove_listener(events.append)

    @extension.task("interval", id="t", seconds=30)
    def first() -> None: ...

    @extension.task("interval", id="t", seconds=45)  # a task declares its job: replaced
    def second() -> None: ...

    assert [(job.id, job.pending) for job in extension.get_jobs()] == [("t", True)]
    with pytest.raises(ConfigurationError, match="secs"):

        @extension.task("interval", id="u", secs=30)
        def third() -> None: ...

    with pytest.raises(ConfigurationError, match="need a trigger"):
        extension.task(id="v")
    assert extension.authenticate(in_app_context) is in_app_context
    attach(made, extension, database_url)
    assert extension.scheduler.auth_callback is in_app_context
    assert events == []
    assert [job.id for job in extension.get_jobs()] == ["t"]
    assert extension.scheduler.registry.ref_for(second).endswith("second")


@pytest.mark.parametrize(
    ("method", "arguments"),
    [
        ("run_job", ("j",)),
        ("pause", ()),
        ("resume", ()),
        ("shutdown", ()),
        ("wakeup", ()),
        ("get_runs", ()),
        ("get_scheduler_state", ()),
        ("get_nodes", ()),
        ("get_node", ()),
        ("pause_node", ()),
        ("resume_node", ()),
    ],
)
def test_what_needs_the_database_is_a_clear_error_before_init_app(
    method: str, arguments: tuple[str, ...]
) -> None:
    """Flask-APScheduler runs a pending job unrecorded; tickwork records every run."""
    extension = APScheduler()
    extension.add_job("j", FUNC)
    with pytest.raises(ConfigurationError, match=rf"^{method}: .* init_app\(app\)"):
        getattr(extension, method)(*arguments)
    assert [job.pending for job in extension.get_jobs()] == [True]


def test_start_without_an_app_uses_the_default_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    extension = APScheduler()
    extension.add_job("outside", "tests.api.test_extension_pending:in_app_context")
    contexts.clear()
    extension.start()
    try:
        assert (tmp_path / "tickwork.sqlite").exists()
        runs = eventually(lambda: extension.get_runs("outside", outcome=Outcome.SUCCEEDED))
        assert len(runs) == 1
        assert contexts == [False]  # no app, so no app context
        with pytest.raises(ConfigurationError, match="before start"):
            extension.init_app(Flask(__name__))
        assert extension.app is None
    finally:
        extension.scheduler.close()
    assert list(stored(f"sqlite:///{tmp_path / 'tickwork.sqlite'}")) == []  # date job, done


def test_flask_apscheduler_starts_without_an_app_too() -> None:
    fa = theirs()
    fa.add_job("outside", in_app_context)
    fa.start(paused=True)
    try:
        assert [job.pending for job in fa.get_jobs()] == [False]
    finally:
        fa.shutdown()


def test_a_given_scheduler_has_nothing_pending(database_url: str) -> None:
    scheduler = Scheduler(database_url, timezone="UTC")
    try:
        extension = APScheduler(scheduler)
        job = extension.add_job("direct", FUNC, trigger="interval", minutes=1)
        assert not job.pending
        assert [entry.id for entry in scheduler.get_jobs()] == ["direct"]
    finally:
        scheduler.close()
