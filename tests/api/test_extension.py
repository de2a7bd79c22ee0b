"""The Flask extension: Flask-APScheduler's config keys, attributes and quick-start forms."""

from __future__ import annotations

from typing import Any

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from flask import Flask, url_for

from tests import jobs
from tests.conftest import eventually
from tickwork import ConfigurationError, Outcome
from tickwork.flask import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED, APScheduler
from tickwork.flask.config import read_settings
from tickwork.store import MEMORY_URL
from tickwork.triggers import IntervalTrigger


def make(made: list[APScheduler], database_url: str, **config: Any) -> tuple[Flask, APScheduler]:
    app = Flask(__name__)
    app.config.update(SCHEDULER_DATABASE_URL=database_url, SCHEDULER_TIMEZONE="UTC")
    app.config.update(config)
    extension = APScheduler()
    made.append(extension)
    extension.init_app(app)
    return app, extension


def test_defaults_and_attributes(made: list[APScheduler], database_url: str) -> None:
    app, scheduler = make(made, database_url)
    assert app.apscheduler is scheduler  # type: ignore[attr-defined]
    assert app.extensions["tickwork"] is scheduler
    assert (scheduler.api_enabled, scheduler.api_prefix) == (False, "/scheduler")
    assert scheduler.endpoint_prefix == "scheduler."
    assert scheduler.allowed_hosts == ["*"]
    assert scheduler.auth is None
    assert not any(rule.rule.startswith("/scheduler") for rule in app.url_map.iter_rules())
    assert (scheduler.running, scheduler.state) == (False, STATE_STOPPED)
    scheduler.start()
    assert (scheduler.running, scheduler.state) == (True, STATE_RUNNING)
    scheduler.pause()
    assert scheduler.state == STATE_PAUSED
    scheduler.resume()
    scheduler.shutdown()
    assert not scheduler.running


def test_prefixes_and_endpoint_names(made: list[APScheduler], database_url: str) -> None:
    app, _ = make(
        made,
        database_url,
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_API_PREFIX="/api/cron",
        SCHEDULER_ENDPOINT_PREFIX="cron_",
    )
    with app.test_request_context():
        assert url_for("cron_get_job", job_id="x") == "/api/cron/jobs/x"
        assert url_for("cron_get_scheduler_info") == "/api/cron"
    assert app.test_client().get("/api/cron/").status_code == 200
    assert app.test_client().get("/api/cron/jobs").get_json() == []


def test_default_endpoint_names_are_flask_apschedulers(
    made: list[APScheduler], database_url: str
) -> None:
    app, _ = make(made, database_url, SCHEDULER_API_ENABLED=True)
    names = {rule.endpoint for rule in app.url_map.iter_rules()}
    expected = {
        "get_scheduler_info",
        "pause_scheduler",
        "resume_scheduler",
        "start_scheduler",
        "shutdown_scheduler",
        "add_job",
        "get_job",
        "get_jobs",
        "delete_job",
        "update_job",
        "pause_job",
        "resume_job",
        "run_job",
    }
    assert {f"scheduler.{name}" for name in expected} <= names


@pytest.mark.parametrize("prefix", ["", "/", None])
def test_empty_prefix_is_an_error(prefix: object) -> None:
    with pytest.raises(ConfigurationError, match="SCHEDULER_API_PREFIX"):
        read_settings({"SCHEDULER_API_PREFIX": prefix})


def test_jobs_from_config_with_legacy_key_and_nested_trigger(
    made: list[APScheduler], database_url: str
) -> None:
    config_jobs = [
        {
            "id": "j1",
            "func": "tests.jobs:add",
            "args": (1, 2),
            "trigger": "interval",
            "seconds": 10,
        },
        {"id": "j2", "func": jobs.record, "trigger": {"type": "cron", "hour": "3"}},
    ]
    _, scheduler = make(made, database_url, JOBS=config_jobs)
    first = scheduler.get_job("j1")
    assert first is not None
    assert first.args == (1, 2)
    assert first.name == "j1"
    second = scheduler.get_job("j2")
    assert second is not None
    assert second.func_ref == "tests.jobs:record"
    # A second process with the same config replaces rather than conflicts.
    _, other = make(made, database_url, SCHEDULER_JOBS=config_jobs)
    assert other.count_jobs() == 2


def test_bad_config_job_names_its_index(made: list[APScheduler], database_url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"SCHEDULER_JOBS\[0\]: id"):
        make(made, database_url, SCHEDULER_JOBS=[{"func": "tests.jobs:add"}])


def test_task_decorator_before_init_app_and_jobs_in_app_context(database_url: str) -> None:
    scheduler = APScheduler()

    @scheduler.task("interval", id="ctx", seconds=0.2, misfire_grace_time=900)
    def app_name() -> str:
        from flask import current_app

        return current_app.name

    app = Flask("quickstart")
    app.config.update(SCHEDULER_DATABASE_URL=database_url)
    scheduler.init_app(app)
    try:
        job = scheduler.get_job("ctx")
        assert job is not None
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.misfire_grace_time == 900
        scheduler.start()
        runs = eventually(lambda: scheduler.get_runs("ctx", outcome=Outcome.SUCCEEDED))
        assert runs[0].result == '"quickstart"'
    finally:
        scheduler.scheduler.close()


def test_extension_methods_mirror_the_python_api(
    made: list[APScheduler], database_url: str
) -> None:
    _, scheduler = make(made, database_url)
    scheduler.add_job("a", jobs.record, trigger={"type": "interval", "minutes": 1}, args=[1])
    job = scheduler.get_job("a")
    assert job is not None
    assert job.name == "a"
    scheduler.modify_job("a", trigger={"type": "interval", "minutes": 2})
    job = scheduler.get_job("a")
    assert job is not None
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval.total_seconds() == 120
    scheduler.reschedule_job("a", trigger="interval", minutes=3)
    assert scheduler.pause_job("a").next_run_time is None
    assert scheduler.resume_job("a") is not None
    scheduler.run_job("a")
    assert jobs.calls[-1] == (1,)
    assert [job.id for job in scheduler.get_jobs()] == ["a"]
    assert [job.id for job in scheduler.iter_jobs()] == ["a"]
    assert scheduler.count_jobs() == 1
    assert scheduler.get_runs("a")[0].manual
    scheduler.remove_job("a")
    scheduler.add_job("b", "tests.jobs:record", trigger="interval", minutes=1)
    scheduler.remove_all_jobs()
    assert scheduler.count_jobs() == 0
    scheduler.start()
    assert scheduler.get_node().id == scheduler.pause_node().id
    assert scheduler.resume_node().is_paused is False
    assert [node.id for node in scheduler.get_nodes()] == [scheduler.scheduler.node_id]
    assert scheduler.get_scheduler_state().is_paused is False


def test_jobstores_select_the_database(sqlite_url: str) -> None:
    settings = read_settings(
        {"SCHEDULER_JOBSTORES": {"default": SQLAlchemyJobStore(url=sqlite_url)}}
    )
    assert settings.database_url == sqlite_url
    as_dict = read_settings(
        {"SCHEDULER_JOBSTORES": {"default": {"type": "sqlalchemy", "url": "x://"}}}
    )
    assert as_dict.database_url == "x://"
    for memory in (MemoryJobStore(), {"type": "memory"}):
        settings = read_settings({"SCHEDULER_JOBSTORES": {"default": memory}})
        assert settings.database_url == MEMORY_URL
    assert read_settings({}).database_url is None  # the durable default file
    own = read_settings({"SCHEDULER_DATABASE_URL": "y://", "SCHEDULER_JOBSTORES": {}})
    assert own.database_url == "y://"
    with pytest.raises(ConfigurationError, match="one database"):
        read_settings({"SCHEDULER_JOBSTORES": {"default": MemoryJobStore(), "other": {}}})


def test_executors_defaults_and_timezone_are_passed_on(
    made: list[APScheduler], database_url: str
) -> None:
    from apscheduler.executors.pool import ThreadPoolExecutor

    _, scheduler = make(
        made,
        database_url,
        SCHEDULER_EXECUTORS={"default": ThreadPoolExecutor(3), "slow": {"type": "threadpool"}},
        SCHEDULER_JOB_DEFAULTS={"coalesce": False, "max_instances": 3},
        SCHEDULER_TIMEZONE="Europe/Paris",
    )
    inner = scheduler.scheduler
    assert sorted(inner.executors) == ["default", "slow"]
    assert inner.executors["default"].max_workers == 3  # type: ignore[attr-defined]
    assert inner.timezone.key == "Europe/Paris"
    job = scheduler.add_job("d", "tests.jobs:record", trigger="interval", minutes=1)
    assert (job.coalesce, job.max_instances) == (False, 3)


def test_engine_settings_come_from_scheduler_engine(
    made: list[APScheduler], database_url: str
) -> None:
    _, scheduler = make(made, database_url, SCHEDULER_ENGINE={"shutdown_grace": 5})
    assert scheduler.scheduler.engine.settings.shutdown_grace == 5
    with pytest.raises(ConfigurationError, match=r"SCHEDULER_ENGINE: .*turbo"):
        read_settings({"SCHEDULER_ENGINE": {"turbo": 1}})
    with pytest.raises(ConfigurationError, match="SCHEDULER_ENGINE: shutdown_grace must be"):
        read_settings({"SCHEDULER_ENGINE": {"shutdown_grace": -1}})
    with pytest.raises(ConfigurationError, match="SCHEDULER_ENGINE must be a dict"):
        read_settings({"SCHEDULER_ENGINE": 30})


def test_the_reloader_parent_does_not_start(
    made: list[APScheduler], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, scheduler = make(made, database_url)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    scheduler.start()
    assert not scheduler.running
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    scheduler.start()
    assert scheduler.running


def test_using_the_scheduler_before_init_app_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"^scheduler: .* init_app"):
        _ = APScheduler().scheduler
