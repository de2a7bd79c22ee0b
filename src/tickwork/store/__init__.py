"""State: the store contract and its SQLite, PostgreSQL and in-memory implementations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tickwork.exceptions import ConfigurationError
from tickwork.store.base import ClaimPlan, ClaimResult, DueJob, Fire, LostRun, Planner, Store

DEFAULT_URL = "sqlite:///tickwork.sqlite"
#: SQLAlchemy's URL of an in-memory SQLite database: each store opened on it gets a fresh,
#: private database that lives as long as the store (see :class:`MemoryStore`).
MEMORY_URL = "sqlite://"


def is_memory_url(url: str | URL) -> bool:
    """Whether ``url`` names an in-memory SQLite database (``sqlite://``,
    ``sqlite:///:memory:``)."""
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def create_store(url: str | None = None, **options: Any) -> Store:
    """Open the store for a SQLAlchemy URL: ``sqlite:///file``, ``postgresql://...``, or
    :data:`MEMORY_URL` for a private in-memory database (tests of apps; not durable)."""
    url = url or DEFAULT_URL
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL {url!r} is not valid: {exc}") from None
    backend = parsed.get_backend_name()
    try:
        if is_memory_url(parsed):
            from tickwork.store.memory import MemoryStore

            return MemoryStore(parsed, **options)
        if backend == "sqlite":
            from tickwork.store.sqlite import SQLiteStore

            return SQLiteStore(parsed, **options)
        if backend == "postgresql":
            from tickwork.store.postgres import PostgresStore

            return PostgresStore(parsed, **options)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(str(exc)) from None
    raise ConfigurationError(
        f"database URL {url!r}: only sqlite:///, sqlite:// (in memory) and postgresql:// are "
        "supported"
    )


__all__ = [
    "DEFAULT_URL",
    "MEMORY_URL",
    "ClaimPlan",
    "ClaimResult",
    "DueJob",
    "Fire",
    "LostRun",
    "Planner",
    "Store",
    "create_store",
    "is_memory_url",
]
