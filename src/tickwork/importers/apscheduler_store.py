"""Reading an APScheduler 3 ``SQLAlchemyJobStore`` table without running its users' code.

APScheduler 3 keeps each job as a row ``(id, next_run_time, job_state)`` where
``job_state`` is ``pickle.dumps(job.__getstate__())``: a dict holding the function as a
``"module:qualname"`` text reference, the arguments, the trigger object and the options.

Pickle can run arbitrary code, so the source must be trusted. On top of that, the state is
loaded with a restricted unpickler that imports nothing from the application:

* datetimes and zones (``datetime``, ``zoneinfo``; pytz zones become ``ZoneInfo``
  without importing pytz) are rebuilt for real;
* cron field and expression objects come from APScheduler itself, which must be
  installed (``pip install tickwork[apscheduler]``);
* every trigger class becomes a :class:`PickledTrigger` holding its class reference and
  pickled state, so no trigger code runs (APScheduler's combining triggers would import
  the classes of their children) and the converter sees exactly what was stored;
* any other global (a class of the application in ``args``, a custom trigger) becomes an
  :class:`Unresolved` stand-in, which the converter reports instead of importing.
"""

from __future__ import annotations

import importlib
import io
import pickle
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Float, LargeBinary, MetaData, Table, Unicode, create_engine, select
from sqlalchemy import inspect as inspect_database
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tickwork.exceptions import ConfigurationError, InvalidJobError, StoreError

#: The table name APScheduler's SQLAlchemyJobStore uses unless told otherwise.
DEFAULT_TABLE = "apscheduler_jobs"

#: Packages whose pickled classes are real APScheduler objects we need (cron fields).
_APSCHEDULER_OBJECT_MODULES = frozenset(
    {"apscheduler.triggers.cron.fields", "apscheduler.triggers.cron.expressions"}
)
_TRIGGER_PACKAGE = "apscheduler.triggers"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of the APScheduler table: the job id and its pickled state.

    The row's ``next_run_time`` column is not read: the state holds the same instant as
    an aware datetime, in the zone the job was scheduled in.
    """

    id: str
    job_state: bytes


class PickledTrigger:
    """An APScheduler trigger as pickled: its class reference and ``__getstate__`` dict."""

    class_ref: ClassVar[str] = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<pickled {self.class_ref}>"


class Unresolved:
    """Stands in for a global the restricted unpickler refused to import."""

    ref: ClassVar[str] = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<{self.ref} object (not imported)>"


def _stand_in(base: type[Any], attribute: str, module: str, name: str) -> type[Any]:
    """A subclass of ``base`` named after the refused global, so messages can name it."""
    return type(name, (base,), {attribute: f"{module}:{name}", "__module__": module})


def _zoneinfo_unpickle_only(obj: object, name: str) -> object:
    """``getattr`` as pickled ZoneInfo objects use it, and for nothing else."""
    if obj is ZoneInfo and name == "_unpickle":
        return getattr(ZoneInfo, name)
    raise pickle.UnpicklingError(f"refusing getattr({obj!r}, {name!r})")


def _pytz_zone(zone: str, *_offsets: object) -> ZoneInfo:
    """What ``pytz._p`` rebuilds, as the equivalent ZoneInfo (pytz need not be installed)."""
    return ZoneInfo(zone)


def _pytz_utc() -> timezone:
    return UTC


def _reconstructor(cls: type[Any], base: type[Any], state: object) -> object:
    """``copyreg._reconstructor`` (pickle protocols 0 and 1), limited to plain objects."""
    if base is not object:
        raise pickle.UnpicklingError(f"refusing to rebuild {cls!r} from {base!r}")
    return object.__new__(cls)


_SAFE_GLOBALS: dict[tuple[str, str], object] = {
    ("datetime", "datetime"): datetime,
    ("datetime", "date"): date,
    ("datetime", "time"): time,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
    ("zoneinfo", "ZoneInfo"): ZoneInfo,
    ("builtins", "getattr"): _zoneinfo_unpickle_only,
    ("builtins", "object"): object,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("pytz", "_p"): _pytz_zone,
    ("pytz", "_UTC"): _pytz_utc,
}


class _JobStateUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        safe = _SAFE_GLOBALS.get((module, name))
        if safe is not None:
            return safe
        if module in _APSCHEDULER_OBJECT_MODULES:
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type):
                return found
        elif module == _TRIGGER_PACKAGE or module.startswith(_TRIGGER_PACKAGE + "."):
            return _stand_in(PickledTrigger, "class_ref", module, name)
        return _stand_in(Unresolved, "ref", module, name)


def load_job_state(data: bytes) -> dict[str, Any]:
    """Unpickle one ``job_state`` with the restricted unpickler.

    :raises InvalidJobError: when the bytes are not a pickled dict.
    """
    try:
        state = _JobStateUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # a broken pickle raises almost anything
        raise InvalidJobError(
            f"cannot unpickle the job state: {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(state, dict):
        raise InvalidJobError(f"the job state is a {type(state).__name__}, not a dict")
    return state


def require_apscheduler() -> None:
    """Fail clearly unless APScheduler 3 can be imported (its cron fields are needed)."""
    try:
        version = metadata.version("APScheduler")
        importlib.import_module("apscheduler.triggers.cron.fields")
    except (ImportError, metadata.PackageNotFoundError):
        raise ConfigurationError(
            "reading an APScheduler job store needs APScheduler 3 installed: "
            "pip install 'tickwork[apscheduler]'"
        ) from None
    if not version.startswith("3."):
        raise ConfigurationError(
            f"APScheduler {version} is installed, but the job store format is APScheduler 3's: "
            "pip install 'APScheduler>=3.9,<4'"
        )


def display_url(url: str) -> str:
    """The URL with its password hidden, for messages and reports."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def read_rows(url: str, table: str = DEFAULT_TABLE) -> list[SourceRow]:
    """Read every row of the APScheduler table, by id; nothing is written.

    :param url: SQLAlchemy URL of the APScheduler database; ``postgresql://`` uses
        psycopg 3 (tickwork's driver) unless a driver is named.
    :param table: table name, optionally ``schema.table``.
    :raises ConfigurationError: for a bad URL, a missing SQLite file or a missing table.
    :raises StoreError: when the database cannot be read (the driver's error is the cause).
    """
    parsed = _source_url(url)
    schema, _, name = table.rpartition(".")
    try:
        engine = create_engine(parsed)
    except (ArgumentError, ImportError) as exc:
        raise ConfigurationError(f"source URL {display_url(url)!r} is not usable: {exc}") from None
    jobs = Table(
        name,
        MetaData(),
        Column("id", Unicode(191), primary_key=True),
        Column("next_run_time", Float(25)),
        Column("job_state", LargeBinary, nullable=False),
        schema=schema or None,
    )
    try:
        with engine.connect() as conn:
            if not inspect_database(conn).has_table(name, schema=schema or None):
                raise ConfigurationError(
                    f"table {table!r} does not exist in {display_url(url)} "
                    "(give the APScheduler table with --table)"
                )
            query = select(jobs.c.id, jobs.c.job_state).order_by(jobs.c.id)
            return [SourceRow(row.id, bytes(row.job_state)) for row in conn.execute(query)]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the APScheduler store {display_url(url)}: {exc}") from exc
    finally:
        engine.dispose()


def _source_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"source URL {url!r} is not valid: {exc}") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        # Connecting would create a missing file: refuse instead of reading an empty store.
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigurationError("the source must be a SQLite file, not an in-memory database")
        if not Path(parsed.database).expanduser().is_file():
            raise ConfigurationError(f"SQLite file {parsed.database!r} does not exist")
    return parsed
