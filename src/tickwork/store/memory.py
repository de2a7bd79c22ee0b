"""An in-memory SQLite database private to one store: for the test suites of apps.

A suite that builds a fresh app per test needs a fresh scheduler state per test, and no
file left in the working tree. This store is that: the same SQL, schema and claim as the
SQLite file store, in a database no other store (and no other process) can see, freed when
the store is closed. It is not durable, so it serves one node and nothing else.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, StaticPool, create_engine
from sqlalchemy.engine import URL

from tickwork.exceptions import ConfigurationError, StoreError
from tickwork.store import MEMORY_URL, is_memory_url
from tickwork.store.sql import SQLStore
from tickwork.store.sqlite import SQLiteStore


class MemoryStore(SQLiteStore):
    """A fresh SQLite database in this process's memory (``sqlite://``).

    An in-memory SQLite database belongs to the connection that made it, so every thread
    (claim loop, recorder, heartbeat, workers, request threads) uses that one connection,
    and the write lock is held for reads as well: two threads' statements on one
    connection would share one transaction. A shared-cache named database would give each
    thread a connection of its own, but its table locks fail at once with
    ``SQLITE_LOCKED``, which SQLite's busy handler does not wait out.

    The database needs no creating (there is no path to mistype), is freed by
    :meth:`close`, and after that every use is a :class:`StoreError`, never a silently new
    empty database. One engine may use it (see :meth:`attach`).
    """

    ephemeral = True

    def __init__(self, url: str | URL = MEMORY_URL, **options: Any) -> None:
        self._closed = False
        self._owner: weakref.ref[object] | None = None
        super().__init__(url, **options)

    def _locate(self, url: URL) -> None:
        if not is_memory_url(url):
            raise ValueError(f"not an in-memory SQLite URL: {url!r}")

    def _create_engine(self, url: URL, busy_timeout: float) -> Engine:
        return create_engine(
            url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
        )

    def start(self, *, create: bool = True) -> None:
        """Create the tables (whatever ``create`` says: this database is always new)."""
        with self._write_lock:
            self._check_open()
            SQLStore.start(self, create=True)

    def close(self) -> None:
        """Free the database: its jobs and history are gone."""
        with self._write_lock:
            self._closed = True
            super().close()

    def attach(self, owner: object) -> None:
        """Refuse a second engine: an in-memory database cannot be shared by nodes (and
        two schedulers sharing it would be one process pretending to be a cluster)."""
        with self._write_lock:
            current = None if self._owner is None else self._owner()
            if current is not None and current is not owner:
                raise ConfigurationError(
                    "this in-memory store already belongs to another scheduler: an "
                    "in-memory database serves one node. Give each scheduler its own "
                    "(every Scheduler('sqlite://') gets a fresh one), or use a database "
                    "file or PostgreSQL for several nodes",
                    field="database",
                )
            self._owner = weakref.ref(owner)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Connection]:
        # Reads too take the lock (SQLiteStore lets them run side by side, each on a
        # connection of its own); checked before connecting, since connecting after
        # close would open a new, empty database.
        with self._write_lock:
            self._check_open()
            with SQLStore._transaction(self, write=write) as conn:
                yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(
                "this in-memory database was closed, and its jobs and history with it; "
                "build a new store"
            )
