"""Run now with arguments of the run's own (issue 14, item 5), through the Python API, on
both backends: the call gets them, history records them and who asked, the job keeps its
own, bad input records nothing, and ``max_instances`` holds across nodes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import jobs
from tests.conftest import eventually
from tests.integration.conftest import FAST
from tests.integration.rows import corrupt_run_arguments
from tickwork import Scheduler
from tickwork.exceptions import InvalidJobError, MaxInstancesReachedError
from tickwork.limits import MAX_ARGUMENTS_BYTES, MAX_JSON_DEPTH, MAX_REQUESTER_CHARS
from tickwork.run import Outcome, Run

FAR = datetime(2099, 1, 1, tzinfo=UTC)


def _add(scheduler: Scheduler, job_id: str = "j", **options: Any) -> None:
    options.setdefault("func", "tests.jobs:record_kwargs")
    scheduler.add_job(
        id=job_id, trigger="date", run_date=FAR, args=[1], kwargs={"own": True}, **options
    )


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_stopped_scheduler_runs_the_given_arguments_inline(scheduler: Scheduler) -> None:
    _add(scheduler)
    job = scheduler.get_job("j")

    scheduler.run_job("j", args=[2, "b"], kwargs={"x": [1]}, requested_by="alice")

    assert jobs.calls == [(2, "b", {"x": [1]})]
    (run,) = scheduler.get_runs("j")
    assert (run.outcome, run.manual) == (Outcome.SUCCEEDED, True)
    assert (run.args, run.kwargs, run.requested_by) == ([2, "b"], {"x": [1]}, "alice")
    assert run.result == '[[2, "b"], {"x": [1]}]'
    assert scheduler.get_job("j") == job  # the job keeps its own arguments


def test_a_running_scheduler_hands_them_to_the_executor(scheduler: Scheduler) -> None:
    _add(scheduler)
    scheduler.start()

    scheduler.run_job("j", kwargs={"x": 1})

    run = eventually(lambda: _finished(scheduler))
    assert run.node_id == scheduler.node_id
    assert (run.args, run.kwargs, run.requested_by) == (None, {"x": 1}, None)
    assert jobs.calls == [(1, {"x": 1})]  # args left out: the job's own


def test_each_left_out_is_the_jobs_own_and_empty_ones_are_kept(scheduler: Scheduler) -> None:
    _add(scheduler)
    scheduler.run_job("j")
    scheduler.run_job("j", args=())
    scheduler.run_job("j", kwargs={})
    assert jobs.calls == [(1, {"own": True}), ({"own": True},), (1, {})]
    recorded = [(run.args, run.kwargs) for run in reversed(scheduler.get_runs("j"))]
    assert recorded == [(None, None), ([], None), (None, {})]


def test_arguments_are_recorded_also_when_the_run_fails(scheduler: Scheduler) -> None:
    _add(scheduler, func="tests.jobs:fail")
    scheduler.run_job("j", args=["kaput"], kwargs={}, requested_by="bob")
    (run,) = scheduler.get_runs("j")
    assert (run.outcome, run.error) == (Outcome.FAILED, "RuntimeError: kaput")
    assert (run.args, run.kwargs, run.requested_by) == (["kaput"], {}, "bob")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"args": "ab"}, "args"),
        ({"args": 5}, "args"),
        ({"args": {"a": 1}}, "args"),
        ({"args": [float("nan")]}, "args"),
        ({"args": [object()]}, "args"),
        ({"args": [(1, 2), {3}]}, "args"),
        ({"args": ["nul \x00"]}, "args"),
        ({"args": ["\ud800"]}, "args"),
        ({"args": ["x" * MAX_ARGUMENTS_BYTES]}, "args"),
        ({"args": _nested(MAX_JSON_DEPTH + 1)}, "args"),
        ({"kwargs": [1]}, "kwargs"),
        ({"kwargs": {1: "a"}}, "kwargs"),
        ({"kwargs": {"a": {1: 2}}}, "kwargs"),
        ({"kwargs": "a=1"}, "kwargs"),
        ({"requested_by": 7}, "requested_by"),
        ({"requested_by": "eve\nINFO forged log line"}, "requested_by"),
        ({"requested_by": "x" * (MAX_REQUESTER_CHARS + 1)}, "requested_by"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field_and_nothing_runs(
    scheduler: Scheduler, arguments: dict[str, Any], field: str
) -> None:
    _add(scheduler)
    job = scheduler.get_job("j")
    with pytest.raises(InvalidJobError) as caught:
        scheduler.run_job("j", **arguments)
    assert caught.value.field == field
    assert scheduler.get_runs("j") == []
    assert jobs.calls == []
    assert scheduler.get_job("j") == job


def test_arguments_as_large_and_deep_as_a_jobs_may_be_are_accepted(
    scheduler: Scheduler,
) -> None:
    _add(scheduler)
    big = ["x" * (MAX_ARGUMENTS_BYTES - 10)]
    deep = {"d": _nested(MAX_JSON_DEPTH - 1)}
    scheduler.run_job("j", args=big, kwargs=deep)
    (run,) = scheduler.get_runs("j")
    assert (run.args, run.kwargs) == (big, deep)


def test_a_tuple_and_a_mapping_are_accepted_as_the_python_api_takes_them(
    scheduler: Scheduler,
) -> None:
    _add(scheduler)
    scheduler.run_job("j", args=(1, [2]), kwargs={"k": (3,)})
    (run,) = scheduler.get_runs("j")
    assert (run.args, run.kwargs) == ([1, [2]], {"k": [3]})


def test_max_instances_still_holds_for_runs_with_their_own_arguments(
    scheduler: Scheduler,
) -> None:
    _add(scheduler, func="tests.jobs:record_and_hold", max_instances=1)
    scheduler.start()
    scheduler.run_job("j", args=["first"])
    eventually(lambda: jobs.calls)
    with pytest.raises(MaxInstancesReachedError):
        scheduler.run_job("j", args=["second"])
    jobs.gate.set()
    run = eventually(lambda: _finished(scheduler))
    assert run.args == ["first"]
    assert [r.args for r in scheduler.get_runs("j")] == [["first"]]


@pytest.mark.parametrize("stored", ["[1, ", '"text"', "{}"])
def test_a_corrupt_recorded_argument_reads_as_none_and_keeps_the_listing(
    sqlite_url: str, stored: str
) -> None:
    """SQLite keeps JSON as text; a row written behind the store's back (not JSON, or
    JSON of the wrong kind) must not break the history it is in."""
    scheduler = Scheduler(sqlite_url, timezone="UTC")
    try:
        _add(scheduler)
        scheduler.run_job("j", args=["a"], kwargs={"b": 1})
        scheduler.run_job("j")
        corrupt_run_arguments(sqlite_url, "j", stored)
        runs = scheduler.get_runs("j")
        assert [run.outcome for run in runs] == [Outcome.SUCCEEDED] * 2
        expected: dict[str, Any] | None = {"[1, ": None, '"text"': None, "{}": {}}[stored]
        assert [run.kwargs for run in runs] == [expected] * 2
        assert [run.args for run in runs] == [None, None]
    finally:
        scheduler.close()


def test_two_nodes_running_now_at_once_each_record_their_own_arguments(
    postgres_url: str,
) -> None:
    """Two nodes on PostgreSQL run the same job now at the same moment with different
    arguments: each run calls and records its own, and a third run-now is refused while
    ``max_instances`` (2) runs are running, whichever node asks."""
    nodes = [Scheduler(postgres_url, timezone="UTC", settings=FAST) for _ in range(2)]
    jobs.calls.clear()
    jobs.gate.clear()
    try:
        _add(nodes[0], func="tests.jobs:record_and_hold", max_instances=2)
        for node in nodes:
            node.start()
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run_now(node: Scheduler, tag: str) -> None:
            barrier.wait()
            try:
                node.run_job("j", args=[tag], kwargs={"node": node.node_id}, requested_by=tag)
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [
            threading.Thread(target=run_now, args=(node, f"from-{index}"))
            for index, node in enumerate(nodes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert errors == []
        eventually(lambda: len(jobs.calls) == 2)
        for node in nodes:
            with pytest.raises(MaxInstancesReachedError):
                node.run_job("j", args=["third"])
        jobs.gate.set()
        runs = eventually(
            lambda: (
                len(done := [r for r in nodes[0].get_runs("j") if r.outcome is Outcome.SUCCEEDED])
                == 2
                and done
            )
        )
        by_tag = {run.requested_by: run for run in runs}
        assert set(by_tag) == {"from-0", "from-1"}
        for index, node in enumerate(nodes):
            run = by_tag[f"from-{index}"]
            assert (run.args, run.kwargs, run.node_id) == (
                [f"from-{index}"],
                {"node": node.node_id},
                node.node_id,
            )
        assert sorted(jobs.calls, key=str) == sorted(
            [(f"from-{index}", {"node": node.node_id}) for index, node in enumerate(nodes)],
            key=str,
        )
        assert len(nodes[1].get_runs("j")) == 2  # the refused ones recorded nothing
    finally:
        jobs.gate.set()
        for node in nodes:
            node.close()


def _finished(scheduler: Scheduler) -> Run | None:
    runs = [run for run in scheduler.get_runs() if run.outcome is not Outcome.RUNNING]
    return runs[0] if runs else None
