"""``tickwork jobs run ID --args --kwargs`` and ``tickwork jobs pause ID --note`` on both
backends: what runs, what history and the job view show, and bad input changing nothing."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, as_json, stopped_scheduler


def _add(cli: Invoke) -> None:
    added = cli("jobs", "add", "sum", "tests.jobs:add", "-t", "cron", "-a", "hour=3",
                "--args", "[2, 3]")  # fmt: skip
    assert added.exit_code == 0, added.output


def test_a_run_with_its_own_arguments_and_history_shows_them(cli: Invoke) -> None:
    _add(cli)
    run = as_json(cli("jobs", "run", "sum", "--args", "[40]", "--kwargs", '{"b": 2}', "--json"))
    assert (run["outcome"], run["result"]) == ("succeeded", "42")
    assert (run["args"], run["kwargs"], run["requested_by"]) == ([40], {"b": 2}, None)

    plain = as_json(cli("jobs", "run", "sum", "--json"))
    assert (plain["result"], plain["args"], plain["kwargs"]) == ("5", None, None)

    table = cli("runs", "--job", "sum").stdout
    assert "REQUEST" in table.splitlines()[0]
    assert 'args=[40] kwargs={"b": 2}' in table
    assert as_json(cli("jobs", "show", "sum", "--json"))["args"] == [2, 3]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--args", "[1,"], "--args"),
        (["--args", '{"a": 1}'], "--args"),
        (["--kwargs", "[1]"], "--kwargs"),
        (["--kwargs", '{"a": NaN}'], "kwargs"),
        (["--args", '["\\u0000"]'], "args"),
    ],
)
def test_bad_arguments_are_usage_errors_and_nothing_runs(
    cli: Invoke, database_url: str, arguments: list[str], expected: str
) -> None:
    _add(cli)
    result = cli("jobs", "run", "sum", *arguments)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    with stopped_scheduler(database_url) as scheduler:
        assert scheduler.get_runs("sum") == []


def test_pause_with_a_note_is_shown_until_resumed(cli: Invoke) -> None:
    _add(cli)
    paused = as_json(cli("jobs", "pause", "sum", "--note", "waiting for the migration", "--json"))
    assert (paused["paused_note"], paused["paused_by"]) == ("waiting for the migration", None)
    assert paused["paused_at"] is not None

    shown = cli("jobs", "show", "sum").stdout
    assert "paused:" in shown
    assert "waiting for the migration (since " in shown

    resumed = as_json(cli("jobs", "resume", "sum", "--json"))
    assert (resumed["paused_note"], resumed["paused_at"]) == (None, None)
    assert "waiting for the migration" not in cli("jobs", "show", "sum").stdout


@pytest.mark.parametrize("note", ["\x1b[2Jcleared", "a" * 1001, "two\nlines"])
def test_a_bad_note_is_exit_2_naming_it_and_the_job_stays_active(cli: Invoke, note: str) -> None:
    _add(cli)
    result = cli("jobs", "pause", "sum", "--note", note)
    assert result.exit_code == 2, result.output
    assert "note" in result.stderr
    assert as_json(cli("jobs", "show", "sum", "--json"))["next_run_time"] is not None
