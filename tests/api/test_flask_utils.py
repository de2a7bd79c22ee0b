"""``tickwork.flask.utils`` side by side with ``flask_apscheduler.utils`` 1.13.

Each test gives both the same job definitions (tickwork's extension on a database,
Flask-APScheduler's on APScheduler's memory store, both in UTC) and compares what the
helpers return: the same keys in the same order with equal values, tickwork's triggers
standing in for APScheduler's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_apscheduler
import flask_apscheduler.utils as fa_utils
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from tickwork import ConfigurationError
from tickwork.flask import APScheduler
from tickwork.flask.utils import fix_job_def, job_to_dict, pop_trigger, trigger_to_dict
from tickwork.triggers import CronTrigger

FUNC = "tests.api.test_flask_utils:anything"


def anything(*args: object, **kwargs: object) -> None:
    """What every job here calls (APScheduler checks the arguments fit)."""


START = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)
END = START + timedelta(days=3650)

#: add_job keyword arguments, each given to both extensions.
DEFINITIONS: dict[str, dict[str, Any]] = {
    "date": {"trigger": "date", "run_date": datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)},
    "interval": {
        "trigger": "interval",
        "weeks": 1,
        "days": 9,
        "hours": 2,
        "minutes": 3,
        "seconds": 4,
        "start_date": START,
        "end_date": END,
        "args": [1, "two"],
        "kwargs": {"three": 3.0},
    },
    "interval-minutes": {"trigger": "interval", "minutes": 90, "start_date": START},
    "cron": {
        "trigger": "cron",
        "year": "2026-2040",
        "month": "jan-mar",
        "day": "last",
        "day_of_week": "mon-fri",
        "hour": "*/2",
        "minute": 5,
        "second": " 7 ",
        "start_date": START,
        "end_date": END,
        "name": "reporting",
        "misfire_grace_time": 30,
        "max_instances": 4,
    },
    "cron-week": {"trigger": "cron", "week": "1-10", "hour": "1,3"},
    "nested": {"trigger": {"type": "cron", "hour": "4"}, "args": [True, None]},
}


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[APScheduler, Any]]:
    """tickwork's extension attached to an app, and Flask-APScheduler's started paused (so
    its jobs are stored, not pending)."""
    app = Flask(__name__)
    app.config.update(SCHEDULER_DATABASE_URL=database_url, SCHEDULER_TIMEZONE="UTC")
    ours = APScheduler()
    ours.init_app(app)
    theirs = flask_apscheduler.APScheduler(BackgroundScheduler(timezone="UTC"))
    theirs.init_app(Flask(__name__))
    theirs.start(paused=True)
    yield ours, theirs
    theirs.shutdown()
    ours.scheduler.close()


def add_both(ours: Any, theirs: Any, job_id: str, definition: dict[str, Any]) -> None:
    for extension in (ours, theirs):
        extension.add_job(job_id, FUNC, **_copy(definition))


def _copy(definition: dict[str, Any]) -> dict[str, Any]:
    """The extensions may flatten a nested trigger in place; each gets its own."""
    return {
        key: dict(value) if isinstance(value, dict) else value for key, value in definition.items()
    }


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_job_to_dict_is_flask_apschedulers(pair: tuple[APScheduler, Any], kind: str) -> None:
    ours, theirs = pair
    add_both(ours, theirs, kind, DEFINITIONS[kind])
    mine = ours.get_job(kind)
    assert mine is not None
    expected = fa_utils.job_to_dict(theirs.get_job(kind))
    assert job_to_dict(mine) == expected  # OrderedDicts: the same order too
    assert list(trigger_to_dict(mine.trigger)) == list(
        fa_utils.trigger_to_dict(theirs.get_job(kind).trigger)
    )


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_pending_jobs_leave_out_what_they_do_not_have_yet(kind: str) -> None:
    """Before ``init_app`` (tickwork) or ``start`` (Flask-APScheduler) jobs are pending; the
    zone is given, as tickwork's pending triggers are in the machine's zone."""
    ours = APScheduler()
    theirs = flask_apscheduler.APScheduler(BackgroundScheduler(timezone="UTC"))
    add_both(ours, theirs, kind, {**DEFINITIONS[kind], "timezone": "UTC"})
    mine = ours.get_job(kind)
    assert mine is not None
    assert mine.pending
    expected = fa_utils.job_to_dict(theirs.get_job(kind))
    assert "next_run_time" not in expected
    assert job_to_dict(mine) == expected


def test_datetimes_are_the_triggers_own() -> None:
    trigger = CronTrigger(hour=3, start_date="2026-03-01T00:00", timezone="Europe/Paris")
    start = trigger_to_dict(trigger)["start_date"]
    assert isinstance(start, datetime)
    assert start.tzinfo == trigger.timezone


def test_combined_triggers_are_written_as_their_str(pair: tuple[APScheduler, Any]) -> None:
    from apscheduler.triggers.combining import AndTrigger, OrTrigger
    from apscheduler.triggers.cron import CronTrigger as TheirCron
    from apscheduler.triggers.interval import IntervalTrigger as TheirInterval

    ours, _ = pair
    for kind, theirs in (
        ("and", AndTrigger([TheirInterval(seconds=5), TheirInterval(seconds=7)])),
        ("or", OrTrigger([TheirCron(hour=3, timezone="UTC"), TheirCron(hour=9, timezone="UTC")])),
    ):
        children = (
            [{"type": "interval", "seconds": 5}, {"type": "interval", "seconds": 7}]
            if kind == "and"
            else [{"type": "cron", "hour": 3}, {"type": "cron", "hour": 9}]
        )
        job = ours.add_job(kind, FUNC, trigger=kind, triggers=children)
        assert trigger_to_dict(job.trigger) == fa_utils.trigger_to_dict(theirs)


def test_a_sub_second_interval_keeps_its_fraction(pair: tuple[APScheduler, Any]) -> None:
    """Flask-APScheduler drops it (``seconds=1``); the fraction is part of the schedule."""
    ours, theirs = pair
    add_both(ours, theirs, "fast", {"trigger": "interval", "seconds": 1.5, "start_date": START})
    mine = ours.get_job("fast")
    assert mine is not None
    assert trigger_to_dict(mine.trigger)["seconds"] == 1.5
    assert fa_utils.job_to_dict(theirs.get_job("fast"))["seconds"] == 1


POPPED: list[dict[str, Any]] = [
    {"trigger": "date", "run_date": "2030-01-01", "timezone": "UTC", "name": "x"},
    {"trigger": "interval", "hours": 2, "seconds": 1, "start_date": "2030-01-01", "id": "i"},
    {"trigger": "cron", "day_of_week": "mon", "hour": 5, "end_date": "2031-01-01", "args": []},
    {"trigger": "cron", "year": 2030, "month": 1, "day": 2, "week": 3, "minute": 4, "second": 5},
]


@pytest.mark.parametrize("data", POPPED)
def test_pop_trigger_is_flask_apschedulers(data: dict[str, Any]) -> None:
    mine, theirs = dict(data), dict(data)
    assert pop_trigger(mine) == fa_utils.pop_trigger(theirs)
    assert mine == theirs  # what is left


def test_pop_trigger_also_takes_jitter_and_tickworks_triggers() -> None:
    data = {"trigger": "interval", "seconds": 5, "jitter": 2, "name": "j"}
    assert pop_trigger(data) == ("interval", {"seconds": 5, "jitter": 2})
    assert data == {"name": "j"}
    calendar = {"trigger": "calendarinterval", "months": 1, "hour": 3, "coalesce": True}
    assert pop_trigger(calendar) == ("calendarinterval", {"months": 1, "hour": 3})


@pytest.mark.parametrize("name", ["cronjob", None, 5])
def test_pop_trigger_refuses_what_is_no_trigger(name: object) -> None:
    mine: dict[str, Any] = {"trigger": name, "hour": 5}
    theirs = dict(mine)
    with pytest.raises(ConfigurationError, match="trigger"):
        pop_trigger(mine)
    with pytest.raises(Exception, match="not supported"):
        fa_utils.pop_trigger(theirs)
    assert mine == theirs == {"hour": 5}
    with pytest.raises(KeyError):
        pop_trigger({})


FIXED: list[dict[str, Any]] = [
    {"id": "a", "trigger": "date", "run_date": "2030-01-02T03:04:05+01:00"},
    {"id": "b", "trigger": "interval", "start_date": "2030-01-02 03:04", "end_date": "2031-01-01"},
    {"id": "c", "trigger": {"type": "cron", "hour": 3, "start_date": "2030-01-01"}},
    {"id": "d", "trigger": {"hours": 3}},
    {"id": "e", "start_date": " 2030-01-02T03:04:05Z ", "trigger": "cron", "hour": 1},
    {"id": "f", "trigger": "interval", "start_date": START, "run_date": None},
]


@pytest.mark.parametrize("job_def", FIXED)
def test_fix_job_def_is_flask_apschedulers(job_def: dict[str, Any]) -> None:
    mine, theirs = _copy(job_def), _copy(job_def)
    fix_job_def(mine)
    fa_utils.fix_job_def(theirs)
    assert mine == theirs


def test_fix_job_def_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ConfigurationError, match="run_date 'next tuesday'") as raised:
        fix_job_def({"run_date": "next tuesday"})
    assert raised.value.field == "run_date"
    clash = {"trigger": {"type": "cron", "hour": 3}, "hour": 4}
    with pytest.raises(ConfigurationError, match="hour is given both"):
        fix_job_def(clash)
    assert clash == {"trigger": {"type": "cron", "hour": 3}, "hour": 4}  # left as it was
