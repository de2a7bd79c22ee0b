"""Turning callables into stored references and back, and deciding which may be scheduled.

A job stores its callable as text: either ``"package.module:qualname"`` or the name of a
task registered with :meth:`TaskRegistry.task`. Resolution is cached because the engine
resolves on every fire.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tickwork.exceptions import CallableNotAllowedError, InvalidJobError

F = TypeVar("F", bound=Callable[..., Any])


def callable_to_ref(func: Callable[..., Any]) -> str:
    """Return the ``"module:qualname"`` reference of an importable callable.

    Lambdas, nested functions and bound methods of instances cannot be imported again in
    another process, so they are refused rather than stored as something that breaks later.
    """
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if inspect.ismethod(func) and not inspect.isclass(func.__self__):
        raise InvalidJobError(
            f"{func!r} is a bound method of an instance; schedule a module-level function, "
            "a static/class method, or a registered task instead"
        )
    if not module or not qualname or "<lambda>" in qualname or "<locals>" in qualname:
        raise InvalidJobError(
            f"{func!r} cannot be referenced by an import path; schedule a module-level "
            "function or register it with @scheduler.task"
        )
    ref = f"{module}:{qualname}"
    if import_ref(ref) is not func:
        raise InvalidJobError(f"{ref} does not resolve back to {func!r}")
    return ref


def import_ref(ref: str) -> Callable[..., Any]:
    """Import the object named by a ``"module:qualname"`` reference."""
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise InvalidJobError(f"func reference {ref!r} is not of the form 'module:qualname'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidJobError(f"func reference {ref!r} cannot be imported: {exc}") from None
    if not callable(target):
        raise InvalidJobError(f"func reference {ref!r} is not callable")
    return target  # type: ignore[no-any-return]


class TaskRegistry:
    """Named callables plus an allow-list of reference patterns.

    Python code may schedule any importable callable. Callers from outside (the REST API)
    may only name a registered task or a reference matching ``allowed_patterns`` (shell
    wildcards such as ``"myapp.jobs:*"``); nothing else is imported on their behalf.
    """

    def __init__(self, allowed_patterns: Iterable[str] = ()) -> None:
        self._tasks: dict[str, Callable[..., Any]] = {}
        self._resolved: dict[str, Callable[..., Any]] = {}
        self.allowed_patterns: tuple[str, ...] = tuple(allowed_patterns)

    def register(self, func: F, name: str | None = None) -> F:
        """Register ``func`` under ``name`` (default: its ``module:qualname``)."""
        task_name = name or f"{func.__module__}:{func.__qualname__}"
        existing = self._tasks.get(task_name)
        if existing is not None and existing is not func:
            raise InvalidJobError(f"a different task is already registered as {task_name!r}")
        self._tasks[task_name] = func
        self._resolved[task_name] = func
        return func

    @property
    def names(self) -> list[str]:
        return sorted(self._tasks)

    def is_registered(self, ref: str) -> bool:
        return ref in self._tasks

    def ref_for(self, func: Callable[..., Any] | str) -> str:
        """Return the reference to store for ``func`` (trusted Python callers)."""
        if isinstance(func, str):
            if func not in self._tasks:
                self.resolve(func)  # fail now, not at the first fire
            return func
        for task_name, task in self._tasks.items():
            if task is func:
                return task_name
        return callable_to_ref(func)

    def check_allowed(self, ref: str) -> None:
        """Refuse a reference an untrusted caller may not schedule, without importing it."""
        if ref in self._tasks:
            return
        if any(fnmatch.fnmatchcase(ref, pattern) for pattern in self.allowed_patterns):
            return
        raise CallableNotAllowedError(
            f"func {ref!r} is not a registered task and matches no allowed pattern"
        )

    def resolve(self, ref: str) -> Callable[..., Any]:
        """Return the callable behind a stored reference (cached)."""
        func = self._resolved.get(ref)
        if func is None:
            func = import_ref(ref)
            self._resolved[ref] = func
        return func
