"""Durable state: the store contract and its SQLite and PostgreSQL implementations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tickwork.exceptions import ConfigurationError
from tickwork.store.base import ClaimPlan, ClaimResult, DueJob, Fire, LostRun, Planner, Store

DEFAULT_URL = "sqlite:///tickwork.sqlite"


def create_store(url: str | None = None, **options: Any) -> Store:
    """Open the store for a SQLAlchemy URL (``sqlite:///file`` or ``postgresql://...``)."""
    url = url or DEFAULT_URL
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL {url!r} is not valid: {exc}") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            from tickwork.store.sqlite import SQLiteStore

            return SQLiteStore(parsed, **options)
        if backend == "postgresql":
            from tickwork.store.postgres import PostgresStore

            return PostgresStore(parsed, **options)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(str(exc)) from None
    raise ConfigurationError(
        f"database URL {url!r}: only sqlite:/// and postgresql:// are supported"
    )


__all__ = [
    "DEFAULT_URL",
    "ClaimPlan",
    "ClaimResult",
    "DueJob",
    "Fire",
    "LostRun",
    "Planner",
    "Store",
    "create_store",
]
