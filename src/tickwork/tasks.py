"""Registered tasks and the allow-list: which callables may be scheduled, and by whom.

A job stores its callable as text: either ``"package.module:qualname"`` (the grammar and
resolver of :mod:`tickwork.refs`) or the name of a task registered with
:meth:`TaskRegistry.task`. Resolution is cached because the engine resolves on every fire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tickwork.exceptions import CallableNotAllowedError, InvalidJobError
from tickwork.refs import RefPattern, callable_to_ref, import_ref, parse_patterns, parse_ref

F = TypeVar("F", bound=Callable[..., Any])


class TaskRegistry:
    """Named callables plus an allow-list of reference patterns.

    Python code may schedule any callable a module defines. Callers from outside (the REST
    API) may only name a registered task or a reference matching ``allowed_patterns``
    (:class:`~tickwork.refs.RefPattern`, such as ``"myapp.jobs:*"``); a reference that
    matches no pattern is refused before anything is imported.
    """

    def __init__(self, allowed_patterns: Iterable[str] = ()) -> None:
        self._tasks: dict[str, Callable[..., Any]] = {}
        self._resolved: dict[str, Callable[..., Any]] = {}
        self._patterns: tuple[RefPattern, ...] = parse_patterns(allowed_patterns)

    @property
    def allowed_patterns(self) -> tuple[str, ...]:
        return tuple(pattern.text for pattern in self._patterns)

    @allowed_patterns.setter
    def allowed_patterns(self, texts: Iterable[str]) -> None:
        """Replace the patterns; a bad one raises ConfigurationError and changes nothing."""
        self._patterns = parse_patterns(texts)

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
        """Refuse a reference an untrusted caller may not schedule.

        A registered task passes by name. Anything else must pass the grammar and match a
        pattern before its module is imported, then resolve to a callable that module
        defines (:func:`~tickwork.refs.import_ref`).

        :raises CallableNotAllowedError: the reference may not be scheduled.
        :raises InvalidJobError: it is allowed, but nothing of that name exists.
        """
        if ref in self._tasks:
            return
        parsed = parse_ref(ref)
        if not any(pattern.matches(parsed) for pattern in self._patterns):
            raise CallableNotAllowedError(
                f"func {ref!r} is not a registered task and matches no allowed pattern"
            )
        self.resolve(ref)

    def is_allowed(self, ref: str) -> bool:
        """Whether :meth:`check_allowed` passes: an untrusted caller may schedule ``ref``."""
        try:
            self.check_allowed(ref)
        except InvalidJobError:  # CallableNotAllowedError included
            return False
        return True

    def resolve(self, ref: str) -> Callable[..., Any]:
        """Return the callable behind a stored reference (cached)."""
        func = self._resolved.get(ref)
        if func is None:
            func = import_ref(ref)
            self._resolved[ref] = func
        return func
