"""Fixtures of the multi-process acceptance tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def restartable_postgres(postgres_url: str) -> str:
    """A fresh database on a server the test may stop and start (see ``cluster.pg_ctl``)."""
    if not os.environ.get("TICKWORK_TEST_POSTGRES_DATA"):
        pytest.skip("needs the PostgreSQL server started by scripts/with-postgres")
    return postgres_url
