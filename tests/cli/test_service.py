"""The service pieces in-process: config file, --app loading, auth, metrics, flask tickwork."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest
from flask import Flask
from flask.cli import FlaskGroup

from tests import jobs
from tests.cli.conftest import as_json, make_invoker
from tickwork import ConfigurationError, EngineSettings, Scheduler
from tickwork.cli.flask_group import flask_group
from tickwork.config import ServiceConfig
from tickwork.flask import APScheduler
from tickwork.server import build_service, load_config, open_scheduler, parse_config

FULL_CONFIG = """
database = "sqlite:///{tmp}/svc.sqlite"
timezone = "Europe/Berlin"
allowed_callables = ["tests.jobs:*"]

[tasks]
adder = "tests.jobs:add"

[server]
host = "127.0.0.1"
port = 0
api_prefix = "/tw"
threads = 4
metrics = true
metrics_public = false
allow_insecure = false

[auth]
tokens = ["0123456789abcdef0123"]
basic_users = {{ admin = "correct horse battery" }}

[executors.default]
type = "threadpool"
max_workers = 4

[job_defaults]
misfire_grace_time = 30

[engine]
poll_interval = 0.05
run_retention = false
shutdown_grace = false

[[jobs]]
id = "nightly"
func = "adder"
trigger = "cron"
hour = 3
args = [1, 2]
"""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tickwork.toml"
    path.write_text(textwrap.dedent(text).format(tmp=tmp_path))
    return path


def test_every_key_of_the_config_file(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, FULL_CONFIG))
    assert config.timezone == "Europe/Berlin"
    assert config.tasks == {"adder": "tests.jobs:add"}
    assert (config.host, config.port, config.api_prefix, config.threads) == (
        "127.0.0.1",
        0,
        "/tw",
        4,
    )
    assert config.engine == EngineSettings(
        poll_interval=0.05, run_retention=None, shutdown_grace=None
    )
    scheduler, loaded = open_scheduler(config)
    try:
        assert loaded is None
        assert str(scheduler.timezone) == "Europe/Berlin"
        assert scheduler.job_defaults["misfire_grace_time"] == 30
        assert "adder" in scheduler.registry.names
        from tickwork.server import add_configured_jobs

        assert add_configured_jobs(scheduler, config) == 1
        job = scheduler.get_job("nightly")
        assert job is not None
        assert job.func_ref == "adder"
        assert job.misfire_grace_time == 30
    finally:
        scheduler.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("databse = 'x'", "unknown key databse"),
        ("[server]\nprot = 1", "unknown key server.prot"),
        ("[server]\nport = 70000", "server.port must be from 0 to 65535"),
        ("[server]\nmetrics = 'yes'", "server.metrics must be true or false"),
        ("[auth]\ntokens = 'abc'", "auth.tokens must be an array of strings"),
        ("[engine]\npoll_interval = -1", "poll_interval must be a positive number"),
        ("[engine]\nturbo = 1", "unknown key engine.turbo"),
        ("[engine]\nshutdown_grace = 0", "shutdown_grace must be positive or None"),
        ("[engine]\nshutdown_grace = 'soon'", "engine.shutdown_grace must be a number"),
        ("jobs = 3", "jobs must be an array of tables"),
        ("[executors]\ndefault = 3", "executors.default must be a table"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_config(write_config(tmp_path, text))


def test_missing_config_file_via_cli_is_exit_2(tmp_path: Path) -> None:
    result = make_invoker(f"sqlite:///{tmp_path}/x.sqlite")(
        "jobs", "list", "--config", str(tmp_path / "missing.toml")
    )
    assert result.exit_code == 2
    assert "cannot read config file" in result.stderr


def test_cli_reads_database_and_tasks_from_the_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, FULL_CONFIG)
    invoke = make_invoker("unused")
    added = invoke(
        "jobs", "add", "sum", "adder", "--args", "[2, 2]", "--config", str(path), "--create",
        database=False,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    ran = as_json(invoke("jobs", "run", "sum", "--json", "--config", str(path), database=False))
    assert ran["result"] == "4"
    assert (tmp_path / "svc.sqlite").exists()


def test_app_module_with_a_scheduler_and_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/app.sqlite"
    (tmp_path / "svc_tasks.py").write_text(
        textwrap.dedent(
            f"""
            from tickwork import Scheduler
            scheduler = Scheduler({url!r})

            @scheduler.task(name="greet")
            def greet(who):
                return "hello " + who
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    invoke = make_invoker(url)
    added = invoke("jobs", "add", "hi", "greet", "--args", '["bob"]', "--app", "svc_tasks",
                   "--create", database=False)  # fmt: skip
    assert added.exit_code == 0, added.output
    ran = as_json(invoke("jobs", "run", "hi", "--json", "--app", "svc_tasks:scheduler",
                         database=False))  # fmt: skip
    assert ran["result"] == '"hello bob"'
    clash = invoke("jobs", "list", "--app", "svc_tasks")
    assert clash.exit_code == 2
    assert "--database cannot be used with --app" in clash.stderr
    nothing = invoke("jobs", "list", "--app", "svc_tasks:missing", database=False)
    assert nothing.exit_code == 2
    assert "has no 'missing'" in nothing.stderr


def make_service(tmp_path: Path, **overrides: object) -> tuple[Scheduler, Flask]:
    config = ServiceConfig(database=f"sqlite:///{tmp_path}/svc.sqlite", **overrides)  # type: ignore[arg-type]
    scheduler, loaded = open_scheduler(config)
    service = build_service(config, scheduler, loaded)
    return scheduler, service.app


def test_service_routes_auth_and_metrics(tmp_path: Path) -> None:
    token = "0123456789abcdef0123"
    scheduler, app = make_service(
        tmp_path, tokens=(token,), basic_users={"admin": "correct horse battery"}
    )
    try:
        client = app.test_client()
        assert client.get("/scheduler/jobs").status_code == 401
        assert client.get("/metrics").status_code == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/scheduler/jobs", headers=bearer).json == []
        basic = {
            "Authorization": "Basic " + base64.b64encode(b"admin:correct horse battery").decode()
        }
        assert client.get("/scheduler/jobs", headers=basic).status_code == 200
        wrong = {"Authorization": "Basic " + base64.b64encode(b"admin:no").decode()}
        assert client.get("/scheduler/jobs", headers=wrong).status_code == 401
        metrics = client.get("/metrics", headers=bearer)
        assert metrics.status_code == 200
        assert metrics.content_type.startswith("text/plain")
        assert b"tickwork_jobs 0.0" in metrics.data
        assert client.get("/").headers["Location"] == "/scheduler/ui/"
        assert client.get("/scheduler/ui/").status_code == 200
    finally:
        scheduler.close()


def test_hashed_basic_password(tmp_path: Path) -> None:
    from werkzeug.security import generate_password_hash

    scheduler, app = make_service(
        tmp_path, basic_users={"ops": generate_password_hash("s3cret")}, metrics_public=True
    )
    try:
        client = app.test_client()
        ok = {"Authorization": "Basic " + base64.b64encode(b"ops:s3cret").decode()}
        assert client.get("/scheduler/jobs", headers=ok).status_code == 200
        assert client.get("/metrics").status_code == 200  # metrics_public
    finally:
        scheduler.close()


def test_metrics_count_fires_outcomes_and_claims(tmp_path: Path) -> None:
    scheduler, app = make_service(
        tmp_path, engine=EngineSettings(poll_interval=0.02, heartbeat_interval=0.2)
    )
    client = app.test_client()
    jobs.gate.clear()
    scheduler.start()
    try:
        scheduler.add_job("tests.jobs:record", trigger="interval", seconds=0.1, id="ok")
        scheduler.add_job("tests.jobs:fail", trigger="interval", seconds=0.1, id="bad")
        scheduler.add_job(id="slow", func="tests.jobs:until_cancelled", timeout=0.1)

        def sample(name: str) -> float:
            for line in client.get("/metrics").data.decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[-1])
            return 0.0

        from tests.conftest import eventually

        eventually(lambda: sample('tickwork_runs_finished_total{outcome="failed"}') >= 2)
        eventually(lambda: sample('tickwork_runs_finished_total{outcome="succeeded"}') >= 2)
        eventually(lambda: sample('tickwork_runs_finished_total{outcome="timed_out"}') == 1)
        assert sample("tickwork_runs_overdue") == 1  # its thread waits for the gate
        jobs.gate.set()
        eventually(lambda: sample("tickwork_runs_overdue") == 0)
        assert sample("tickwork_fires_submitted_total") >= 4
        assert sample("tickwork_run_lateness_seconds_count") >= 2
        assert sample("tickwork_run_duration_seconds_count") >= 2
        assert sample("tickwork_claim_duration_seconds_count") >= 1
        assert sample("tickwork_jobs") == 2  # the one-shot "slow" is gone
        assert sample("tickwork_nodes_running") == 1
        assert sample("tickwork_scheduler_paused") == 0
        scheduler.pause()
        assert sample("tickwork_scheduler_paused") == 1
        assert sample("tickwork_node_paused") == 1
        assert sample("tickwork_store_up") == 1
    finally:
        jobs.gate.set()
        scheduler.close()


def test_two_services_in_one_process_do_not_clash(tmp_path: Path) -> None:
    first, _ = make_service(tmp_path / "a")
    second, _ = make_service(tmp_path / "b")
    first.close()
    second.close()


def test_flask_tickwork_commands_use_the_apps_scheduler(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config["SCHEDULER_DATABASE_URL"] = f"sqlite:///{tmp_path}/flask.sqlite"
    extension = APScheduler(app=app)
    runner = app.test_cli_runner()
    # the `flask` command itself: it finds `tickwork` through the flask.commands entry point
    flask = FlaskGroup(create_app=lambda: app)
    added = runner.invoke(
        flask,
        ["tickwork", "jobs", "add", "j", "tests.jobs:record", "-t", "cron", "-a", "hour=4",
         "--create"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert extension.get_job("j") is not None
    listed = runner.invoke(flask, ["tickwork", "jobs", "list", "--json"])
    assert [job["id"] for job in as_json(listed)] == ["j"]
    missing = runner.invoke(flask, ["tickwork", "jobs", "show", "x"])
    assert missing.exit_code == 1
    assert "No job by the id of x was found" in missing.output
    assert "serve" not in flask_group.commands
    extension.scheduler.close()


def test_flask_tickwork_refuses_an_app_without_the_extension() -> None:
    app = Flask(__name__)
    result = app.test_cli_runner().invoke(
        FlaskGroup(create_app=lambda: app), ["tickwork", "jobs", "list"]
    )
    assert result.exit_code == 2
    assert "this Flask app does not use tickwork.flask.APScheduler" in result.output


def test_flask_metrics_behind_config_key(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config.update(
        SCHEDULER_DATABASE_URL=f"sqlite:///{tmp_path}/flask.sqlite",
        SCHEDULER_METRICS_ENABLED=True,
        SCHEDULER_METRICS_PATH="/internal/metrics",
    )
    extension = APScheduler(app=app)
    assert b"tickwork_jobs 0.0" in app.test_client().get("/internal/metrics").data
    extension.scheduler.close()


def test_parse_config_defaults() -> None:
    assert parse_config({}) == ServiceConfig()


@pytest.mark.parametrize(
    "pattern", ["*:*", "myapp.jobs:__*", "myapp.jobs", "myapp..jobs:*", "myapp.jobs:a?"]
)
def test_a_bad_allow_list_pattern_stops_the_config_naming_it(tmp_path: Path, pattern: str) -> None:
    path = write_config(tmp_path, f"allowed_callables = ['myapp.jobs:*', '{pattern}']")
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    assert f"allowed_callables: allowed callable pattern {pattern!r}" in str(caught.value)
    result = make_invoker(f"sqlite:///{tmp_path}/x.sqlite")("jobs", "list", "--config", str(path))
    assert result.exit_code == 2
    assert repr(pattern) in result.stderr
