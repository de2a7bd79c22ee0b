"""The ``"module:qualname"`` reference grammar, its resolver and its allow-list patterns.

A reference is a security boundary: REST clients send one, and whatever it resolves to runs
with the server's rights. So it is a grammar checked before anything is imported, and a
resolver that can only reach callables a module *defines*, never an attribute walk:

* ``module`` is a dotted path of ASCII identifiers, ``qualname`` is ``name`` or
  ``Class.name`` (classes may nest). No segment may start with ``__``, which rules out
  ``__dict__``, ``__globals__``, ``__builtins__`` and name-mangled names; the one exception
  is the whole module name ``__main__``, for scripts that schedule their own functions.
* Each step is read from the namespace (``vars()``) of a module or class, so a module's
  ``__getattr__``, an instance's attributes and inherited members are never consulted.
* Everything on the way must be defined in the named module: the module object is the one
  of that name (``os.path`` is really ``posixpath``: refused), every class and the callable
  carry that ``__module__`` and the reference's ``__qualname__``. An imported module
  (``myapp.jobs:os.system``), an imported function (``from time import sleep``), a class
  imported from elsewhere, or a method of a module-level instance are all refused.
* The callable is a Python function, a class, a static or class method of such a class, or
  a built-in function of the module itself (``posix:system``, ``math:sqrt``). Calling a
  class runs its constructor, so a class passes only if its ``__new__`` and ``__init__``
  are the default ones or the module's own and its metaclass adds no ``__call__``:
  ``class Shell(subprocess.Popen)`` defined in the module would otherwise run ``Popen``.

Allow-list patterns (:class:`RefPattern`) have the same two sides, matched separately,
segment by segment: ``*`` matches within one segment and never a dot, ``**`` (a whole
segment) matches any number of segments, and a wildcard never matches a segment starting
with ``_``. The first module segment must be written out, so no pattern allows every module.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tickwork.exceptions import CallableNotAllowedError, ConfigurationError, InvalidJobError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT_PATTERN = re.compile(r"[A-Za-z0-9_*]+")
#: The module scripts run as; allowed as a whole module name, never as a pattern.
_MAIN = "__main__"
#: A pattern segment that matches any number of segments.
ANY_DEPTH = "**"


@dataclass(frozen=True)
class Ref:
    """A reference that passed the grammar: its module and qualname, both as segments."""

    module: str
    qualname: str

    @property
    def module_parts(self) -> list[str]:
        return self.module.split(".")

    @property
    def name_parts(self) -> list[str]:
        return self.qualname.split(".")

    def __str__(self) -> str:
        return f"{self.module}:{self.qualname}"


def parse_ref(text: str) -> Ref:
    """Check ``text`` against the grammar, without importing anything.

    :raises CallableNotAllowedError: naming the offending segment.
    """
    module, sep, qualname = text.partition(":")
    if not sep:
        raise CallableNotAllowedError(f"func {text!r} is not of the form 'module:qualname'")
    if module != _MAIN:
        _check_segments(text, module, "module")
    _check_segments(text, qualname, "qualname")
    return Ref(module, qualname)


def _check_segments(text: str, dotted: str, side: str) -> None:
    for segment in dotted.split("."):
        if not _IDENTIFIER.fullmatch(segment):
            raise CallableNotAllowedError(
                f"func {text!r}: {side} segment {segment!r} is not an ASCII identifier"
            )
        if segment.startswith("__"):
            raise CallableNotAllowedError(
                f"func {text!r}: {side} segment {segment!r} starts with '__'"
            )


def import_ref(text: str) -> Callable[..., Any]:
    """The callable a reference names, if its module defines it (see the module docstring).

    :raises CallableNotAllowedError: the reference breaks the grammar, or names something
        the module does not define or that is not a callable of an accepted kind.
    :raises InvalidJobError: there is nothing of that name (or the module fails to import).
    """
    ref = parse_ref(text)
    module = _import_module(ref)
    container: Any = module
    parts = ref.name_parts
    for depth, name in enumerate(parts):
        namespace = vars(container)
        if name not in namespace:
            owner = getattr(container, "__qualname__", ref.module)
            raise InvalidJobError(
                f"func reference {text!r} cannot be imported: {owner} defines no {name!r}"
            )
        value = namespace[name]
        qualname = ".".join(parts[: depth + 1])
        if depth < len(parts) - 1:
            if not (inspect.isclass(value) and _defined_as(value, ref.module, qualname)):
                raise _not_defined(text, value, ref.module, "a class defined in")
            container = value
            continue
        return _callable(text, container, value, ref.module, qualname)
    raise AssertionError("unreachable: a qualname has at least one segment")


def _import_module(ref: Ref) -> types.ModuleType:
    try:
        module = importlib.import_module(ref.module)
    except Exception as exc:  # a module's own code may raise anything on import
        raise InvalidJobError(f"func reference {ref} cannot be imported: {exc}") from None
    if not isinstance(module, types.ModuleType) or module.__name__ != ref.module:
        actual = getattr(module, "__name__", type(module).__name__)
        raise CallableNotAllowedError(
            f"func {str(ref)!r}: {ref.module} is an alias of {actual}; name the module itself"
        )
    return module


def _callable(
    text: str, container: Any, value: Any, module: str, qualname: str
) -> Callable[..., Any]:
    """Unwrap the accepted kinds of callable, checking each was defined where it is named."""
    if isinstance(value, staticmethod | classmethod):
        function = value.__func__
        if inspect.isfunction(function) and _defined_as(function, module, qualname):
            bound: Callable[..., Any] = value.__get__(None, container)
            return bound
    elif inspect.isfunction(value):
        if _defined_as(value, module, qualname):
            return value
    elif inspect.isclass(value):
        if _defined_as(value, module, qualname):
            _check_construction(text, value, module)
            return value
    elif isinstance(value, types.BuiltinFunctionType):
        if value.__self__ is container and _defined_as(value, module, qualname):
            return value
    else:
        raise CallableNotAllowedError(
            f"func {text!r} is a {type(value).__name__}, not a function, class or "
            "static/class method; register it with @scheduler.task to schedule it"
        )
    raise _not_defined(text, value, module, "defined in")


#: What calling a class runs, besides its metaclass's ``__call__``.
_CONSTRUCTORS = ("__new__", "__init__")


def _check_construction(text: str, cls: type, module: str) -> None:
    """Calling a class runs its metaclass's ``__call__``, then the ``__new__`` and
    ``__init__`` its MRO provides: each must be the default one or come from a class of the
    named module, or ``class Shell(subprocess.Popen)`` would run Popen with the caller's
    arguments although ``Shell`` is defined here."""
    if type(cls).__call__ is not type.__call__:
        raise CallableNotAllowedError(
            f"func {text!r}: calling it runs the __call__ of its metaclass "
            f"{type(cls).__qualname__} (from {type(cls).__module__}), not code of {module}"
        )
    for name in _CONSTRUCTORS:
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        if owner is not object and owner.__module__ != module:
            raise CallableNotAllowedError(
                f"func {text!r}: calling it runs {owner.__qualname__}.{name} "
                f"(from {owner.__module__}), not code of {module}"
            )


def _defined_as(value: Any, module: str, qualname: str) -> bool:
    return getattr(value, "__module__", None) == module and (
        getattr(value, "__qualname__", None) == qualname
    )


def _not_defined(text: str, value: Any, module: str, what: str) -> CallableNotAllowedError:
    if isinstance(value, types.ModuleType):
        where = f" (it is the module {value.__name__})"
    else:
        origin = getattr(value, "__module__", None)
        where = f" (it comes from {origin})" if isinstance(origin, str) and origin != module else ""
    return CallableNotAllowedError(f"func {text!r} names something not {what} {module}{where}")


def callable_to_ref(func: Callable[..., Any]) -> str:
    """Return the ``"module:qualname"`` reference of a callable its module defines.

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
    if import_ref(ref) != func:  # == for class methods: each access binds a new object
        raise InvalidJobError(f"{ref} does not resolve back to {func!r}")
    return ref


class RefPattern:
    """One allow-list pattern, ``module_pattern:name_pattern``, parsed once.

    :raises ConfigurationError: naming the pattern, when it breaks the pattern grammar.
    """

    def __init__(self, text: object) -> None:
        if not isinstance(text, str):
            raise ConfigurationError(f"allowed callable pattern {text!r} is not a string")
        self.text = text
        module, sep, name = text.partition(":")
        if not sep:
            raise self._error("is not of the form 'module_pattern:name_pattern'")
        self._module = self._segments(module)
        self._name = self._segments(name)
        if not _IDENTIFIER.fullmatch(module.split(".")[0]):
            raise self._error("must name its top-level module without wildcards")

    def _segments(self, dotted: str) -> tuple[re.Pattern[str] | None, ...]:
        """Each segment as a regex, ``None`` for ``**``."""
        segments = dotted.split(".")
        if segments.count(ANY_DEPTH) > 1:
            raise self._error(f"has more than one {ANY_DEPTH!r} in {dotted!r}")
        return tuple(self._segment(segment) for segment in segments)

    def _segment(self, segment: str) -> re.Pattern[str] | None:
        if segment == ANY_DEPTH:
            return None
        if not _SEGMENT_PATTERN.fullmatch(segment) or ANY_DEPTH in segment:
            raise self._error(
                f"has segment {segment!r}; use identifiers, '*' within a segment "
                f"or {ANY_DEPTH!r} as a whole segment"
            )
        if segment.startswith("__"):
            raise self._error(f"has segment {segment!r}, which starts with '__'")
        body = "[A-Za-z0-9_]*".join(re.escape(part) for part in segment.split("*"))
        return re.compile(("(?!_)" if segment.startswith("*") else "") + body)

    def _error(self, reason: str) -> ConfigurationError:
        return ConfigurationError(f"allowed callable pattern {self.text!r} {reason}")

    def matches(self, ref: Ref) -> bool:
        return _match(self._module, ref.module_parts) and _match(self._name, ref.name_parts)

    def __repr__(self) -> str:
        return f"RefPattern({self.text!r})"


def _match(patterns: tuple[re.Pattern[str] | None, ...], names: list[str]) -> bool:
    if not patterns:
        return not names
    head, rest = patterns[0], patterns[1:]
    if head is None:  # ** : any number of public segments, then the rest
        for taken in range(len(names) + 1):
            if _match(rest, names[taken:]):
                return True
            if taken < len(names) and names[taken].startswith("_"):
                return False
        return False
    return bool(names) and head.fullmatch(names[0]) is not None and _match(rest, names[1:])


def parse_patterns(texts: Iterable[object]) -> tuple[RefPattern, ...]:
    """Parse allow-list patterns; the first bad one raises, named."""
    if isinstance(texts, str):
        raise ConfigurationError(f"allowed callables must be a list of patterns, got {texts!r}")
    return tuple(RefPattern(text) for text in texts)


def check_patterns(texts: Iterable[object], key: str) -> tuple[str, ...]:
    """The patterns of config key ``key``, checked when the config is loaded.

    :raises ConfigurationError: naming the key and the first bad pattern.
    """
    try:
        return tuple(pattern.text for pattern in parse_patterns(texts))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{key}: {exc}") from None
