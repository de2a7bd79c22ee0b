"""The CLI in-process on both backends: output, exit codes, messages, and no changes on errors."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, as_json, make_invoker, stopped_scheduler
from tickwork import Scheduler


def test_add_list_show_json_and_table(cli: Invoke, database_url: str) -> None:
    added = as_json(
        cli(
            "jobs", "add", "ping", "tests.jobs:record", "-t", "interval", "-a", "seconds=30",
            "-a", "max_instances=3", "--args", '[1, "two"]', "--kwargs", '{"k": true}', "--json",
            "--timeout", "2.5",
        )
    )  # fmt: skip
    assert added["id"] == "ping"
    assert added["trigger"] == "interval"
    assert added["seconds"] == 30
    assert added["max_instances"] == 3
    assert added["timeout"] == 2.5
    assert added["args"] == [1, "two"]
    assert added["kwargs"] == {"k": True}
    assert added["name"] == "ping"

    listed = as_json(cli("jobs", "list", "--json"))
    assert [job["id"] for job in listed] == ["ping"]

    table = cli("jobs", "list")
    assert table.exit_code == 0
    header, row = table.stdout.splitlines()
    assert header.split() == ["ID", "TRIGGER", "NEXT", "RUN", "FUNC"]
    assert row.startswith("ping  ")
    assert header.index("TRIGGER") == row.index("interval[")  # aligned columns
    assert "tests.jobs:record" in row

    shown = cli("jobs", "show", "ping")
    assert shown.exit_code == 0
    assert "interval[0:00:30]" in shown.stdout
    assert "timeout:" in shown.stdout
    assert "no runs" in shown.stdout
    assert as_json(cli("jobs", "show", "ping", "--json")) == listed[0]

    with stopped_scheduler(database_url) as scheduler:
        job = scheduler.get_job("ping")
        assert job is not None
        assert job.max_instances == 3
        assert job.timeout == 2.5


@pytest.mark.parametrize(
    "command", ["show", "pause", "resume", "run", "remove"], ids=lambda name: name
)
def test_unknown_job_is_exit_1_with_a_clear_message(cli: Invoke, command: str) -> None:
    result = cli("jobs", command, "nope")
    assert result.exit_code == 1
    assert "No job by the id of nope was found" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        (["-t", "interval", "-a", "seconds=abc"], "seconds"),
        (["-t", "interval", "-a", "secs=3"], "secs"),
        (["-t", "cron", "-a", "hour=25"], "hour"),
        (["-t", "weekly"], "trigger"),
        (["-a", "max_instances=0"], "max_instances"),
        (["--timeout", "0"], "timeout"),
        (["--timeout", "-1"], "timeout"),
        (["--timeout", "nan"], "timeout"),
        (["--timeout", "1e300"], "timeout"),
        (["--timeout", "soon"], "timeout"),
        (["-a", "timeout=true"], "timeout"),
    ],
)
def test_bad_trigger_arguments_are_exit_2_naming_the_field_and_store_nothing(
    cli: Invoke, database_url: str, arguments: list[str], field: str
) -> None:
    result = cli("jobs", "add", "bad", "tests.jobs:record", *arguments)
    assert result.exit_code == 2, result.output
    assert field in result.stderr
    assert "Traceback" not in result.output
    with stopped_scheduler(database_url) as scheduler:
        assert scheduler.count_jobs() == 0


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["-a", "seconds"], "--arg"),
        (["-a", "id=x"], "--arg"),
        (["--args", "[1,"], "--args"),
        (["--args", '{"a": 1}'], "--args"),
        (["--kwargs", "[1]"], "--kwargs"),
    ],
)
def test_malformed_options_are_usage_errors(
    cli: Invoke, database_url: str, arguments: list[str], option: str
) -> None:
    result = cli("jobs", "add", "bad", "tests.jobs:record", "-t", "interval", *arguments)
    assert result.exit_code == 2
    assert option in result.stderr
    with stopped_scheduler(database_url) as scheduler:
        assert scheduler.count_jobs() == 0


def test_func_that_cannot_be_imported_is_refused(cli: Invoke) -> None:
    result = cli("jobs", "add", "bad", "tests.nowhere:func")
    assert result.exit_code == 2
    assert "cannot be imported" in result.stderr


def test_duplicate_id_is_exit_1_and_replace_replaces(cli: Invoke) -> None:
    assert (
        cli("jobs", "add", "j", "tests.jobs:record", "-t", "interval", "-a", "hours=1").exit_code
        == 0
    )
    again = cli("jobs", "add", "j", "tests.jobs:record", "-t", "interval", "-a", "hours=2")
    assert again.exit_code == 1
    assert "conflicts with an existing job" in again.stderr
    replaced = as_json(
        cli("jobs", "add", "j", "tests.jobs:record", "-t", "interval", "-a", "hours=2",
            "--replace", "--json")
    )  # fmt: skip
    assert replaced["hours"] == 2


def test_pause_resume_and_remove(cli: Invoke, database_url: str) -> None:
    cli("jobs", "add", "j", "tests.jobs:record", "-t", "cron", "-a", "hour=9", "--paused")
    assert as_json(cli("jobs", "show", "j", "--json"))["next_run_time"] is None
    assert "paused" in cli("jobs", "list").stdout
    resumed = as_json(cli("jobs", "resume", "j", "--json"))
    assert resumed["next_run_time"] is not None
    paused = cli("jobs", "pause", "j")
    assert paused.exit_code == 0
    assert "paused job j" in paused.stdout
    assert as_json(cli("jobs", "remove", "j", "--json")) == {"id": "j", "removed": True}
    with stopped_scheduler(database_url) as scheduler:
        assert scheduler.count_jobs() == 0


def test_run_now_records_history_and_a_failure_exits_1(cli: Invoke) -> None:
    cli("jobs", "add", "sum", "tests.jobs:add", "-t", "cron", "-a", "hour=3", "--args", "[2, 3]")
    cli("jobs", "add", "boom", "tests.jobs:fail", "-t", "cron", "-a", "hour=3")
    run = as_json(cli("jobs", "run", "sum", "--json"))
    assert run["outcome"] == "succeeded"
    assert run["result"] == "5"
    assert run["manual"] is True

    failed = cli("jobs", "run", "boom")
    assert failed.exit_code == 1
    assert "failed" in failed.stdout
    assert "RuntimeError: boom" in failed.stderr

    history = as_json(cli("runs", "--json"))
    assert [(r["job_id"], r["outcome"]) for r in history] == [
        ("boom", "failed"),
        ("sum", "succeeded"),
    ]
    only_failed = as_json(cli("runs", "--outcome", "failed", "--json"))
    assert [r["job_id"] for r in only_failed] == ["boom"]
    assert [r["job_id"] for r in as_json(cli("runs", "--job", "sum", "--json"))] == ["sum"]
    first_page = as_json(cli("runs", "--limit", "1", "--json"))
    next_page = as_json(cli("runs", "--before", str(first_page[0]["id"]), "--json"))
    assert [r["job_id"] for r in first_page + next_page] == ["boom", "sum"]
    assert as_json(cli("runs", "--node", "elsewhere", "--json")) == []

    table = cli("runs", "--job", "boom")
    assert "RuntimeError: boom" in table.stdout
    assert cli("runs", "--outcome", "exploded").exit_code == 2


def test_global_and_node_pause(cli: Invoke, database_url: str) -> None:
    assert as_json(cli("pause", "--json"))["is_paused"] is True
    assert cli("resume").stdout.strip() == "scheduler resumed"

    scheduler = Scheduler(database_url)
    scheduler.start()
    try:
        nodes = as_json(cli("nodes", "list", "--json"))
        assert [node["id"] for node in nodes] == [scheduler.node_id]
        assert as_json(cli("nodes", "pause", scheduler.node_id, "--json"))["is_paused"] is True
        assert scheduler.get_node().is_paused
        resumed = cli("nodes", "resume", scheduler.node_id)
        assert resumed.stdout.strip() == f"node {scheduler.node_id} resumed"
        assert scheduler.node_id in cli("nodes", "list").stdout
    finally:
        scheduler.close()
    assert as_json(cli("nodes", "list", "--json")) == []
    stopped = as_json(cli("nodes", "list", "--all", "--json"))
    assert stopped[0]["state"] == "stopped"

    unknown = cli("nodes", "pause", "ghost")
    assert unknown.exit_code == 1
    assert "No node by the id of ghost was found" in unknown.stderr


def test_db_upgrade(cli: Invoke) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0
    assert "up to date" in result.stdout


def test_unreachable_database_is_exit_3(tmp_path: object) -> None:
    result = make_invoker("postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")("jobs", "list")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: database error")


def test_run_now_of_a_full_job_says_so_and_exits_1(cli: Invoke, database_url: str) -> None:
    cli("jobs", "add", "busy", "tests.jobs:add", "-t", "cron", "-a", "hour=3", "--args", "[2, 3]")
    with stopped_scheduler(database_url) as scheduler:
        scheduler.store.start_manual_run("busy", None)  # a run still going on some node
    refused = cli("jobs", "run", "busy")
    assert refused.exit_code == 1
    assert "job busy is already running 1 time(s), its max_instances" in refused.stderr
    with stopped_scheduler(database_url) as scheduler:
        assert len(scheduler.get_runs("busy")) == 1
