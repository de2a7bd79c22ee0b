"""Fixtures shared by every test scope: database URLs for both backends, and helpers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar, cast

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL_VARIABLE = "TICKWORK_TEST_POSTGRES_URL"

T = TypeVar("T")


def postgres_admin_url() -> str:
    """URL of the throwaway server started by scripts/test; skip (or fail in CI) without it."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        message = f"{POSTGRES_URL_VARIABLE} is not set; run the suite with scripts/test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin = postgres_admin_url()
    name = f"tw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/tickwork.sqlite"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


def eventually(
    condition: Callable[[], T | bool | None], timeout: float = 10.0, interval: float = 0.01
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that; fail after
    ``timeout``.

    A falsy result (``None``, ``False``, an empty list) means "not yet"; the typing says so,
    so a condition like ``lambda: runs and runs[0]`` gives back a run, not an ``object``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            # Truthy, so neither None nor False; a bare True only comes from conditions
            # that return a bool, whose callers do not use the value.
            return cast(T, value)
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)
