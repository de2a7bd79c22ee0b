"""Importing a real APScheduler 3.11 SQLAlchemy job store, on SQLite and PostgreSQL.

The source store is written by APScheduler itself (a paused BackgroundScheduler), plus a
few rows crafted by hand for what APScheduler refuses to write (lambdas, missing
functions, broken pickles). The imported jobs are compared with APScheduler's own
unpickled jobs: same ids, functions, arguments, options and next run times, and triggers
that name the same instants as APScheduler's trigger objects for the next fires.
"""

from __future__ import annotations

import pickle
import sys
import types
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPool
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger as ApsCalendar
from apscheduler.triggers.combining import AndTrigger as ApsAnd
from apscheduler.triggers.combining import OrTrigger as ApsOr
from apscheduler.triggers.cron import CronTrigger as ApsCron
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url

from tests import jobs
from tickwork import ConfigurationError, Scheduler, StoreError
from tickwork.importers import ImportReport, import_apscheduler
from tickwork.importers.apscheduler_store import Unresolved, load_job_state
from tickwork.triggers import Trigger, trigger_from_dict

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
#: Oracle comparisons start here: far from any DST change for the fires compared.
ORACLE_START = datetime(2030, 6, 3, 0, 0, tzinfo=UTC)
ORACLE_FIRES = 20
FAR_FUTURE = datetime(2040, 1, 1, tzinfo=UTC)


class Payload:
    """A class of "the application": the importer must report it, never import it."""

    def __init__(self, value: int) -> None:
        self.value = value

    def describe(self) -> str:
        return f"payload {self.value}"


class EveryDecade(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped (Any)
    """A custom APScheduler trigger: not convertible."""

    def get_next_fire_time(self, previous_fire_time: Any, now: Any) -> datetime | None:
        return None if previous_fire_time else FAR_FUTURE


# -- building the source store -----------------------------------------------------------


def _aps_url(url: str) -> str:
    """psycopg 3 for APScheduler (SQLAlchemy's default PostgreSQL driver is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def source_url(database_url: str, tmp_path: Path) -> str:
    """SQLite: a file of its own. PostgreSQL: tickwork's database, in APScheduler's table."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/apscheduler.sqlite"
    return _aps_url(database_url)


#: Jobs APScheduler converts cleanly: id -> add_job arguments.
CONVERTIBLE: dict[str, dict[str, Any]] = {
    "date": {
        "func": "tests.jobs:record",
        "trigger": "date",
        "run_date": datetime(2031, 5, 1, 9, 30, tzinfo=BERLIN),
        "args": [1, "two", [3.5, None, True]],
        "name": "one shot",
        "misfire_grace_time": 30,
        "coalesce": False,
        "max_instances": 3,
    },
    "interval": {
        "func": "tests.jobs:add",
        "trigger": "interval",
        "hours": 1,
        "minutes": 30,
        "start_date": datetime(2030, 1, 1, 0, 0, 10),
        "end_date": datetime(2032, 1, 1),
        "jitter": 5,
        "timezone": "America/New_York",
        "kwargs": {"a": 1, "b": 2},
    },
    "cron": {
        "func": "tests.jobs:record",
        "trigger": "cron",
        "month": "jan-jun,sep",
        "day_of_week": "mon-fri",
        "hour": "9,17",
        "minute": "*/15",
        "second": 30,
        "start_date": datetime(2030, 1, 1),
        "end_date": datetime(2035, 12, 31),
        "timezone": "Europe/Berlin",
        "misfire_grace_time": None,
    },
    "cron-positions": {
        "func": "tests.jobs:record",
        "trigger": "cron",
        "day": "2nd tue,last",
        "hour": 6,
        "timezone": "Asia/Tokyo",
        "start_date": datetime(2030, 1, 1),
    },
    "crontab-kwargs": {
        "func": "tests.jobs:append_line",
        "trigger": ApsCron.from_crontab("0 3 * * 1-5", timezone="UTC"),
        "kwargs": {"path": "/tmp/nightly.txt", "text": "nightly", "seconds": 0.5},
    },
    "paused": {
        "func": "tests.jobs:record",
        "trigger": "interval",
        "seconds": 30,
        "start_date": datetime(2030, 1, 1),
        "timezone": "UTC",
    },
    "or": {
        "func": "tests.jobs:record",
        "trigger": ApsOr(
            [
                ApsCron(hour=3, timezone="UTC"),
                ApsCron(day_of_week="sun", hour=12, timezone="Europe/Berlin"),
            ]
        ),
    },
    "and": {
        "func": "tests.jobs:record",
        "trigger": ApsAnd(
            [ApsCron(hour="*/2", timezone="UTC"), ApsCron(hour="*/3", timezone="UTC")], jitter=2
        ),
    },
    "calendar": {
        "func": "tests.jobs:record",
        "trigger": ApsCalendar(
            months=1, hour=4, minute=30, start_date=date(2030, 1, 31), timezone="Europe/Berlin"
        ),
    },
    "fixed-offset": {
        "func": "tests.jobs:record",
        "trigger": ApsCron(hour=8, timezone=timezone(timedelta(hours=2))),
    },
    "other-executor": {
        "func": "tests.jobs:record",
        "trigger": "interval",
        "minutes": 10,
        "start_date": datetime(2030, 1, 1),
        "timezone": "UTC",
        "executor": "processpool",
    },
}
#: Jobs APScheduler stores but tickwork cannot take: id -> (add_job arguments, reason).
UNCONVERTIBLE: dict[str, tuple[dict[str, Any], str]] = {
    "datetime-arg": (
        {
            "func": "tests.jobs:record",
            "trigger": "date",
            "run_date": FAR_FUTURE,
            "args": [datetime(2020, 1, 1, tzinfo=UTC)],
        },
        "args[0] is a datetime.datetime",
    ),
    "object-kwarg": (
        {
            "func": "tests.jobs:fail",
            "trigger": "date",
            "run_date": FAR_FUTURE,
            "kwargs": {"message": Payload(7)},
        },
        f"kwargs['message'] is an instance of {__name__}:Payload (not imported)",
    ),
    "custom-trigger": (
        {"func": "tests.jobs:record", "trigger": EveryDecade()},
        f"trigger class {__name__}:EveryDecade is not one of APScheduler's",
    ),
}
#: Hand-crafted states (APScheduler refuses to write these): id -> (changes, reasons).
CRAFTED: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "lambda": ({"func": "tests.jobs:<lambda>"}, ("is a lambda or a nested function",)),
    "missing-func": ({"func": "tests.jobs:no_such_function"}, ("cannot be imported",)),
    "missing-module": ({"func": "tests.no_such_module:run"}, ("cannot be imported",)),
    "bound-method": (
        {"func": f"{__name__}:Payload.describe", "args": (Payload(1),)},
        ("args[0] is an instance of", "APScheduler stores the instance of a bound method"),
    ),
    "many-problems": (
        {"func": "tests.jobs:<lambda>", "args": (datetime(2020, 1, 1),), "trigger": Payload(2)},
        ("is a lambda", "args[0] is a datetime.datetime", "trigger class"),
    ),
}


def write_apscheduler_store(url: str, table: str = "apscheduler_jobs") -> None:
    """Let APScheduler 3.11 write every job above, then add the hand-crafted rows."""
    store = SQLAlchemyJobStore(url=url, tablename=table)
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ApsThreadPool(), "processpool": ApsThreadPool()},
        timezone="UTC",
    )
    scheduler.start(paused=True)
    try:
        specs = {**CONVERTIBLE, **{key: spec for key, (spec, _) in UNCONVERTIBLE.items()}}
        for job_id, spec in specs.items():
            arguments = dict(spec)
            scheduler.add_job(arguments.pop("func"), id=job_id, **arguments)
        scheduler.pause_job("paused")
    finally:
        scheduler.shutdown()
        store.engine.dispose()  # the scheduler thread may have checked a connection out late
    template = pickle.loads(_rows(url, table)["date"][1])
    with store.engine.begin() as conn:
        for job_id, (changes, _) in CRAFTED.items():
            state = {**template, "id": job_id, **changes}
            conn.execute(
                store.jobs_t.insert().values(
                    id=job_id, next_run_time=None, job_state=pickle.dumps(state)
                )
            )
        conn.execute(
            store.jobs_t.insert().values(
                id="corrupt", next_run_time=None, job_state=b"not a pickle"
            )
        )
    store.engine.dispose()


def _func_ref(scheduler: Scheduler, job_id: str) -> str:
    job = scheduler.get_job(job_id)
    assert job is not None
    return job.func_ref


def _rows(url: str, table: str = "apscheduler_jobs") -> dict[str, tuple[float | None, bytes]]:
    engine = create_engine(url)
    try:
        store = SQLAlchemyJobStore(engine=engine, tablename=table)
        with engine.connect() as conn:
            result = conn.execute(
                select(store.jobs_t.c.id, store.jobs_t.c.next_run_time, store.jobs_t.c.job_state)
            )
            return {row.id: (row.next_run_time, row.job_state) for row in result}
    finally:
        engine.dispose()


@pytest.fixture
def source(source_url: str) -> str:
    write_apscheduler_store(source_url)
    return source_url


# -- the oracle ----------------------------------------------------------------------------


def _without_jitter(trigger: Trigger) -> Trigger:
    data = trigger.to_dict()
    data["jitter"] = None
    return trigger_from_dict(data)


def _fires(
    next_fire: Callable[[datetime | None, datetime], datetime | None],
    *,
    chained: bool,
    start: datetime,
) -> list[datetime]:
    """The next fires as instants: fed the previous fire (chained), or asked again from
    just after it with no previous fire (what a resumed job does)."""
    fires: list[datetime] = []
    previous: datetime | None = None
    now = start
    for _ in range(ORACLE_FIRES):
        fire = next_fire(previous if chained else None, now)
        if fire is None:
            break
        fires.append(fire.astimezone(UTC))
        previous = fire
        now = fire if chained else fire + timedelta(microseconds=1)
    return fires


def assert_same_schedule(
    ours: Trigger, theirs: Any, *, chained: bool, start: datetime = ORACLE_START
) -> None:
    if hasattr(theirs, "jitter"):
        theirs.jitter = None
        ours = _without_jitter(ours)
    expected = _fires(theirs.get_next_fire_time, chained=chained, start=start)
    assert _fires(ours.next_fire_time, chained=chained, start=start) == expected
    assert len(expected) > 1 or ours.kind == "date"


def assert_same_schedule_as_apscheduler(ours: Trigger, job_state: bytes) -> None:
    """Compare with APScheduler's own trigger, both ways it is asked for fire times.

    Two APScheduler 3.11 quirks are left out: its and-trigger loops forever when given a
    previous fire time its children disagree on, and its calendarinterval trigger asked
    without a previous fire returns ``start_date`` even when that is long past (tickwork
    returns the first date at or after now, as APScheduler 4 does).
    """
    if ours.kind == "calendarinterval":
        start = datetime(2030, 1, 1, tzinfo=UTC)  # before start_date: the same first fire
        assert_same_schedule(ours, pickle.loads(job_state)["trigger"], chained=True, start=start)
        return
    if ours.kind != "and":
        assert_same_schedule(ours, pickle.loads(job_state)["trigger"], chained=True)
    assert_same_schedule(ours, pickle.loads(job_state)["trigger"], chained=False)


# -- tests -----------------------------------------------------------------------------------


def test_import_converts_every_convertible_job_as_apscheduler_stored_it(
    source: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    scheduler = make_scheduler()
    report = import_apscheduler(source, scheduler)

    assert report.added
    assert not report.complete
    assert [item.job.id for item in report.converted] == sorted(CONVERTIBLE)
    stored = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(stored) == sorted(CONVERTIBLE)
    rows = _rows(source)
    for job_id, job in stored.items():
        row_next_run_time, job_state = rows[job_id]
        state = pickle.loads(job_state)
        assert job.func_ref == state["func"]
        assert list(job.args) == list(state["args"])
        assert job.kwargs == state["kwargs"]
        assert job.name == state["name"]
        assert job.misfire_grace_time == state["misfire_grace_time"]
        assert job.coalesce is state["coalesce"]
        assert job.max_instances == state["max_instances"]
        assert job.next_run_time == state["next_run_time"]
        if row_next_run_time is None:
            assert job.next_run_time is None
        else:
            assert job.next_run_time is not None
            assert job.next_run_time.timestamp() == pytest.approx(row_next_run_time, abs=1e-6)
        assert job.trigger.to_dict().get("jitter") == getattr(state["trigger"], "jitter", None)
        assert_same_schedule_as_apscheduler(job.trigger, job_state)

    assert stored["paused"].next_run_time is None
    assert stored["date"].name == "one shot"
    assert stored["date"].args == (1, "two", [3.5, None, True])
    assert stored["cron"].misfire_grace_time is None
    assert stored["crontab-kwargs"].kwargs == {
        "path": "/tmp/nightly.txt",
        "text": "nightly",
        "seconds": 0.5,
    }
    assert stored["interval"].trigger.to_dict()["timezone"] == "America/New_York"
    assert stored["fixed-offset"].trigger.to_dict()["timezone"] == "Etc/GMT-2"
    assert stored["other-executor"].executor == "default"
    warnings = dict(report.warnings)
    assert "'processpool' is not configured" in warnings["other-executor"]
    assert "Etc/GMT-2" in warnings["fixed-offset"]


def test_import_reports_each_job_it_cannot_convert_and_why(
    source: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    report = import_apscheduler(source, make_scheduler())

    reasons = {item.id: item.reason for item in report.failed}
    expected_ids = {*UNCONVERTIBLE, *CRAFTED, "corrupt"}
    assert set(reasons) == expected_ids
    for job_id, (_, reason) in UNCONVERTIBLE.items():
        assert reason in reasons[job_id]
    for job_id, (_, expected) in CRAFTED.items():
        for reason in expected:
            assert reason in reasons[job_id]
    assert reasons["corrupt"].startswith("cannot unpickle the job state")
    assert [item.id for item in report.failed] == sorted(expected_ids)


def test_import_leaves_the_source_untouched(
    source: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    before = _rows(source)
    plain = make_url(source).set(drivername=make_url(source).get_backend_name())
    report = import_apscheduler(plain.render_as_string(hide_password=False), make_scheduler())
    assert len(report.converted) == len(CONVERTIBLE)  # postgresql:// reads with psycopg 3
    assert _rows(source) == before


def test_dry_run_converts_and_reports_but_writes_nothing(
    source: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    report = import_apscheduler(source, dry_run=True)
    assert report.dry_run
    assert not report.added
    assert [item.job.id for item in report.converted] == sorted(CONVERTIBLE)
    assert len(report.failed) == len(UNCONVERTIBLE) + len(CRAFTED) + 1

    with_scheduler = import_apscheduler(source, make_scheduler(), dry_run=True)
    assert with_scheduler.to_dict() == report.to_dict()
    assert make_scheduler().count_jobs() == 0


def test_existing_ids_are_reported_unless_replaced(
    source: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    scheduler = make_scheduler()
    scheduler.add_job(jobs.add, trigger="interval", seconds=5, args=[1, 2], id="date")

    report = import_apscheduler(source, scheduler)
    reasons = {item.id: item.reason for item in report.failed}
    assert "exists already" in reasons["date"]
    assert _func_ref(scheduler, "date") == "tests.jobs:add"
    assert scheduler.count_jobs() == len(CONVERTIBLE)

    again = import_apscheduler(source, scheduler, replace_existing=True)
    assert {item.job.id for item in again.converted} == set(CONVERTIBLE)
    assert _func_ref(scheduler, "date") == "tests.jobs:record"
    assert scheduler.count_jobs() == len(CONVERTIBLE)


def test_all_or_nothing_adds_nothing_when_a_job_fails(
    source: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    scheduler = make_scheduler()
    report = import_apscheduler(source, scheduler, all_or_nothing=True)
    assert not report.added
    assert report.failed
    assert scheduler.count_jobs() == 0


def test_a_store_of_only_good_jobs_imports_completely(
    source_url: str, make_scheduler: Callable[..., Scheduler]
) -> None:
    store = SQLAlchemyJobStore(url=source_url, tablename="jobs_v3")
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.start(paused=True)
    scheduler.add_job("tests.jobs:add", "cron", id="only", hour=4, args=[1, 2])
    scheduler.shutdown()
    store.engine.dispose()  # the scheduler thread may have checked a connection out late

    target = make_scheduler()
    report = import_apscheduler(source_url, target, table="jobs_v3", all_or_nothing=True)
    assert report.complete
    assert report.added
    assert target.get_job("only") is not None


def test_source_errors_are_clear(source_url: str, make_scheduler: Callable[..., Scheduler]) -> None:
    scheduler = make_scheduler()
    engine = create_engine(source_url)  # an empty database, without the table
    engine.connect().close()
    engine.dispose()
    with pytest.raises(ConfigurationError, match="table 'nope' does not exist"):
        import_apscheduler(source_url, scheduler, table="nope")
    with pytest.raises(ConfigurationError, match="not valid"):
        import_apscheduler("not a url", scheduler)
    with pytest.raises(ConfigurationError, match="needed to add"):
        import_apscheduler(source_url)
    assert scheduler.count_jobs() == 0


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    with pytest.raises(ConfigurationError, match="does not exist"):
        import_apscheduler(f"sqlite:///{missing}", dry_run=True)
    assert not missing.exists()


def test_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot read the APScheduler store"):
        import_apscheduler("postgresql://nobody@127.0.0.1:1/none", dry_run=True)


def test_apscheduler_4_or_none_is_refused_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from importlib import metadata

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with pytest.raises(ConfigurationError, match=r"tickwork\[apscheduler\]"):
        import_apscheduler(f"sqlite:///{tmp_path}/x.sqlite", dry_run=True)
    monkeypatch.setattr(metadata, "version", lambda name: "4.0.0")
    with pytest.raises(ConfigurationError, match=r"APScheduler 4\.0\.0 is installed"):
        import_apscheduler(f"sqlite:///{tmp_path}/x.sqlite", dry_run=True)


# -- the restricted unpickler ----------------------------------------------------------------


class _Explodes:
    """Pickles as a call to os.system: the unpickler must not make that call."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        import os

        return (os.system, (f"touch {self.marker}",))


def test_unpickling_imports_and_calls_nothing_of_the_application(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    state = {"version": 1, "args": (_Explodes(marker), Payload(1))}
    loaded = load_job_state(pickle.dumps(state))
    assert not marker.exists()
    first, second = loaded["args"]
    assert isinstance(first, Unresolved)
    assert first.ref in {"posix:system", "os:system"}
    assert isinstance(second, Unresolved)
    assert second.ref == f"{__name__}:Payload"


@pytest.fixture
def fake_pytz() -> Iterator[types.ModuleType]:
    """A stand-in pytz module, only so that pickle can write pytz's global names."""
    module = types.ModuleType("pytz")

    def _p(*args: object) -> None:
        raise AssertionError("the importer must not call pytz")

    _p.__module__ = "pytz"
    _p.__qualname__ = "_p"
    module._p = _p  # type: ignore[attr-defined]
    saved = sys.modules.get("pytz")
    sys.modules["pytz"] = module
    yield module
    if saved is None:
        del sys.modules["pytz"]
    else:
        sys.modules["pytz"] = saved


def test_pytz_zones_of_old_stores_become_zoneinfo(fake_pytz: types.ModuleType) -> None:
    class Zone:
        def __reduce__(self) -> tuple[Any, ...]:
            return (fake_pytz._p, ("Europe/Berlin", 3600, 0, "CET"))

    data = pickle.dumps({"version": 1, "timezone": Zone()})
    assert load_job_state(data)["timezone"] == BERLIN


def test_report_to_dict_is_json(source: str) -> None:
    import json

    report: ImportReport = import_apscheduler(source, dry_run=True)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["dry_run"] is True
    assert {job["id"] for job in data["converted"]} == set(CONVERTIBLE)
    assert all(set(item) == {"id", "reason"} for item in data["failed"])
