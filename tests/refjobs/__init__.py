"""A package that re-exports a job function and its module: neither re-export may be named
as ``tests.refjobs:...``, since the package defines neither."""

from __future__ import annotations

from tests.refjobs import jobs
from tests.refjobs.jobs import notify

__all__ = ["jobs", "notify"]
