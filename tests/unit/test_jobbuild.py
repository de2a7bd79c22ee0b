"""The job declaration and the pure job builder: no store, a manual clock."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tickwork.clock import ManualClock
from tickwork.exceptions import (
    CallableNotAllowedError,
    CallNotEditableError,
    ConfigurationError,
    InvalidJobError,
    TickworkError,
    TriggerArgumentError,
)
from tickwork.job import BY_KEY, FIELDS, MODIFIABLE, OPTION_DEFAULTS, Job, Role
from tickwork.jobbuild import (
    JobBuilder,
    check_job_defaults,
    config_job_specs,
    job_changes,
    job_spec,
    new_job_arguments,
)
from tickwork.tasks import TaskRegistry
from tickwork.triggers import IntervalTrigger

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def noop() -> None:
    """A job function."""


def builder(**defaults: object) -> JobBuilder:
    registry = TaskRegistry()
    registry.register(noop, "noop")
    return JobBuilder(
        registry,
        timezone=ZoneInfo("UTC"),
        clock=ManualClock(T0),
        executors={"default", "other"},
        defaults=check_job_defaults(defaults),
        min_interval=0.1,
    )


def test_every_field_is_declared_once_and_options_have_a_kind() -> None:
    assert [spec.attr for spec in FIELDS] == [item.name for item in fields(Job)]
    assert BY_KEY["func"].attr == "func_ref"
    for spec in FIELDS:
        if spec.role is Role.OPTION:
            assert spec.value is not None
        elif spec.role is not Role.STATE:  # state may declare what its writer accepts
            assert spec.value is None
    assert OPTION_DEFAULTS == {
        "misfire_grace_time": 1.0,
        "coalesce": True,
        "max_instances": 1,
        "rerun_lost": False,
        "timeout": None,
    }
    assert "id" not in MODIFIABLE
    assert "broken_reason" not in MODIFIABLE
    assert {"paused_note", "paused_by", "paused_at"}.isdisjoint(MODIFIABLE)


def test_build_applies_defaults_and_computes_the_first_fire_time() -> None:
    job = builder(coalesce=False).build(
        "a", "noop", trigger="interval", options={"seconds": 5, "start_date": T0}
    )
    assert job.func_ref == "noop"
    assert job.name == "noop"
    assert job.coalesce is False
    assert job.max_instances == 1
    assert job.next_run_time == T0


def test_build_refuses_a_bad_option_naming_it() -> None:
    with pytest.raises(InvalidJobError) as caught:
        builder().build(
            "a", "noop", trigger="interval", options={"seconds": 5, "start_date": T0, "coalesce": 1}
        )
    assert caught.value.field == "coalesce"
    with pytest.raises(InvalidJobError) as caught:
        builder().build("a", "noop", options={"executor": "missing"})
    assert caught.value.field == "executor"


def test_build_refuses_a_trigger_that_never_fires_or_fires_too_often() -> None:
    with pytest.raises(TriggerArgumentError):
        builder().build(
            "a",
            "noop",
            trigger="interval",
            options={"seconds": 5, "start_date": T0 - timedelta(2), "end_date": T0 - timedelta(1)},
        )
    with pytest.raises(TriggerArgumentError) as caught:
        builder().build("a", "noop", trigger="interval", options={"seconds": 0.01})
    assert caught.value.field == "seconds"


def test_build_all_shares_equal_schedules_and_names_a_spec_without_func() -> None:
    first, second = builder().build_all(
        [
            {"id": "a", "func": "noop", "trigger": "interval", "seconds": 5, "start_date": T0},
            {"id": "b", "func": "noop", "trigger": "interval", "seconds": 5, "start_date": T0},
        ]
    )
    assert first.trigger is second.trigger
    with pytest.raises(InvalidJobError, match="#1 has no func"):
        builder().build_all([{"id": "a", "func": "noop"}, {"id": "b"}])


def test_change_checks_without_the_stored_job_and_reschedules_on_a_trigger() -> None:
    made = builder()
    job = made.build("a", "noop", trigger="interval", options={"seconds": 5, "start_date": T0})
    with pytest.raises(InvalidJobError) as caught:
        made.change({"id": "b"})
    assert caught.value.field == "id"
    changed = made.change(
        {"trigger": "interval", "minutes": 1, "start_date": T0, "rerun_lost": True}
    )(job)
    assert isinstance(changed.trigger, IntervalTrigger)
    assert changed.rerun_lost is True
    assert changed.next_run_time == T0  # an interval fires first at its start date


def test_job_spec_rebuilds_the_same_job() -> None:
    made = builder()
    job = made.build(
        "a",
        "noop",
        trigger="interval",
        options={"seconds": 5, "start_date": T0, "rerun_lost": True},
    )
    assert made.build_all([job_spec(job)]) == [job]


def test_unknown_job_defaults_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_job_defaults({"retries": 3})
    assert caught.value.field == "retries"


def test_rest_input_errors_name_their_field_and_are_tickwork_errors() -> None:
    registry = TaskRegistry()
    registry.register(noop, "noop")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"func": "noop"}, "id"),
        ({"id": "a"}, "func"),
        ({"id": "a", "func": "noop", "args": {}}, "args"),
        ({"id": "a", "func": "noop", "name": 3}, "name"),
        ({"id": "a", "func": "noop", "trigger": {"type": "date", "id": "b"}}, "id"),
    ]
    for body, field in cases:
        with pytest.raises(TickworkError) as caught:
            new_job_arguments(body, registry)
        assert getattr(caught.value, "field", None) == field, body
    with pytest.raises(CallableNotAllowedError) as refused:
        new_job_arguments({"id": "a", "func": "os:system"}, registry)
    assert refused.value.field == "func"


def test_the_call_of_a_job_the_client_could_not_add_cannot_change() -> None:
    registry = TaskRegistry()
    trusted = Job("a", "os:system", IntervalTrigger(seconds=5, timezone="UTC"))
    with pytest.raises(CallNotEditableError) as caught:
        job_changes({"kwargs": {}}, "a", lambda: trusted, registry)
    assert caught.value.field == "kwargs"
    assert job_changes({"coalesce": False}, "a", lambda: trusted, registry) == {"coalesce": False}


def test_config_specs_name_the_entry() -> None:
    with pytest.raises(ConfigurationError, match=r"jobs\[1\]: id is required") as caught:
        config_job_specs([{"id": "a", "func": noop}, {"func": noop}], "jobs")
    assert caught.value.field == "id"
