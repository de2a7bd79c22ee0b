"""Where fires run: threads (default), processes, or an asyncio event loop."""

from __future__ import annotations

from typing import Any

from tickwork.exceptions import ConfigurationError
from tickwork.executors.asyncio import AsyncIOExecutor
from tickwork.executors.base import ExecutionContext, Executor, Finished
from tickwork.executors.processpool import ProcessPoolExecutor
from tickwork.executors.threadpool import ThreadPoolExecutor

_TYPES: dict[str, type[Executor]] = {
    "threadpool": ThreadPoolExecutor,
    "processpool": ProcessPoolExecutor,
    "asyncio": AsyncIOExecutor,
}


def build_executor(spec: Executor | dict[str, Any]) -> Executor:
    """An executor from an instance or a Flask-APScheduler style dict.

    ``{"type": "threadpool", "max_workers": 20}``; APScheduler's ``class`` paths for the
    same three executors are accepted too, so existing configs keep working.
    """
    if isinstance(spec, Executor):
        return spec
    if not isinstance(spec, dict):
        raise ConfigurationError(f"an executor must be an Executor or a dict, got {spec!r}")
    options = dict(spec)
    kind = options.pop("type", None) or options.pop("class", None)
    if isinstance(kind, str) and ":" in kind:  # "apscheduler.executors.pool:ThreadPoolExecutor"
        kind = {
            "ThreadPoolExecutor": "threadpool",
            "ProcessPoolExecutor": "processpool",
            "AsyncIOExecutor": "asyncio",
        }.get(kind.rpartition(":")[2], kind)
    executor_type = _TYPES.get(kind) if isinstance(kind, str) else None
    if executor_type is None:
        raise ConfigurationError(f"executor type {kind!r} is unknown; use one of {sorted(_TYPES)}")
    try:
        return executor_type(**options)
    except TypeError as exc:
        raise ConfigurationError(f"executor {kind!r}: {exc}") from None


__all__ = [
    "AsyncIOExecutor",
    "ExecutionContext",
    "Executor",
    "Finished",
    "ProcessPoolExecutor",
    "ThreadPoolExecutor",
    "build_executor",
]
