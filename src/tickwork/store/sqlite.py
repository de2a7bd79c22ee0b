"""SQLite: the embedded default, one file shared by the processes of one host."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from tickwork.clock import Clock
from tickwork.exceptions import ConfigurationError
from tickwork.store import is_memory_url
from tickwork.store.sql import SQLStore

_SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteStore(SQLStore):
    """A store in a SQLite file, in WAL mode.

    Writers take the database lock up front with ``BEGIN IMMEDIATE``: a transaction that
    read first and upgraded to a write lock later could fail with ``SQLITE_BUSY`` instead of
    waiting. Other processes learn of changes by polling (``pushes_notifications`` is False).

    ``synchronous="NORMAL"`` (the default) survives a crash of any process; ``"FULL"`` also
    survives power loss at the cost of an fsync per commit.
    """

    dialect = "sqlite"
    pushes_notifications = False

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Clock | None = None,
        synchronous: str = "NORMAL",
        busy_timeout: float = 30.0,
    ) -> None:
        url = make_url(url)
        if url.get_backend_name() != "sqlite":
            raise ValueError(f"not a SQLite URL: {url!r}")
        self._locate(url)
        if synchronous.upper() not in _SYNCHRONOUS_MODES:
            raise ValueError(
                f"synchronous must be one of {_SYNCHRONOUS_MODES}, got {synchronous!r}"
            )
        engine = self._create_engine(url, busy_timeout)
        mode = synchronous.upper()

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event issue BEGIN, not the sqlite3 module.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={mode}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.info.pop("tickwork_write", False)
            # Straight to the driver: this runs for every transaction.
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "BEGIN IMMEDIATE" if immediate else "BEGIN"
            )

        super().__init__(engine, clock=clock)
        self._write_lock = threading.Lock()

    def _locate(self, url: URL) -> None:
        """Check that ``url`` names a database of this class, and note where it is."""
        if is_memory_url(url):
            raise ValueError(
                "SQLiteStore needs a database file; create_store('sqlite://') gives an "
                "in-memory MemoryStore"
            )
        self._path = Path(str(url.database)).expanduser().resolve()

    def _create_engine(self, url: URL, busy_timeout: float) -> Engine:
        return create_engine(url, connect_args={"timeout": busy_timeout})

    def start(self, *, create: bool = True) -> None:
        """Create the file (and its directory) only when ``create`` is set: connecting
        would create it silently, so a mistyped path is checked before that."""
        if not self._path.exists():
            if not create:
                raise ConfigurationError(
                    f"SQLite database {self._path} does not exist; run `tickwork db upgrade` "
                    "(or pass --create) to create it",
                    field="database",
                )
            self._path.parent.mkdir(parents=True, exist_ok=True)
        super().start(create=create)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Connection]:
        if not write:
            with super()._transaction(write=False) as conn:
                yield conn
            return
        # Threads of one process queue here for the write lock: handing it over is
        # immediate, while SQLite's busy handler would sleep for up to 100 ms per retry.
        with self._write_lock, super()._transaction() as conn:
            yield conn

    def _begin_write(self, conn: Connection) -> None:
        conn.info["tickwork_write"] = True
        conn.begin()

    def listen(self, callback: Any) -> None:
        """SQLite cannot push; the engine polls instead."""

    def unlisten(self, callback: Any) -> None:
        """Nothing to release: :meth:`listen` subscribes to nothing."""
