"""The reference grammar, resolver and allow-list patterns, attacked as a client would.

``tests.refjobs.jobs`` imports modules and functions, keeps a global a job reads, holds a
module-level instance and a module ``__getattr__``: everything the issue's traversals
reached. Nothing but the callables it defines may come out of a reference to it.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.refjobs import jobs as victim
from tickwork.exceptions import CallableNotAllowedError, ConfigurationError, InvalidJobError
from tickwork.refs import RefPattern, callable_to_ref, import_ref, parse_ref
from tickwork.tasks import TaskRegistry

MODULE = "tests.refjobs.jobs"

#: The traversals of the issue, then the other forms tried against the grammar.
ISSUE_FORMS = [
    "os.system",
    "subprocess.check_output",
    "sys.exit",
    "__dict__.update",
    "__builtins__.pop",
    "notify.__globals__.update",
]
REFUSED_NAMES = [
    *ISSUE_FORMS,
    "Jobs.__init__.__globals__",
    "Jobs.Inner.__dict__",
    "notify.__code__",
    "builtins.eval",
    "system",  # from os import system
    "join",  # from os.path import join
    "sleep",  # from time import sleep
    "Borrowed",  # a class of another module
    "Shell",  # defined here, but constructed by subprocess.Popen
    "LogFile",  # defined here, but constructed by logging.FileHandler
    "client.send",  # a method of a module-level instance
    "client",  # a callable instance
    "partial_job",
    "ROUTES.get",
    "fired.append",
    "WEBHOOK_URL",  # not callable
    "alias",  # notify under another name
    "lam",  # a lambda bound to a name
    "functools.partial",
]
#: Private names: trusted code may schedule them, no wildcard of the allow-list reaches them.
PRIVATE = ["_private", "_Client.send", "_Client"]
#: Malformed references: refused by the grammar before any import.
MALFORMED = [
    "",
    ":notify",
    f"{MODULE}:",
    f"{MODULE}:notify.",
    f"{MODULE}:.notify",
    f".{MODULE}:notify",
    "tests..refjobs.jobs:notify",
    ".jobs:notify",
    f"{MODULE}",
    f"{MODULE}:notify:extra",
    f"{MODULE}:notify\n",
    f" {MODULE}:notify",
    f"{MODULE}:notify ",
    f"{MODULE} :notify",
    f"{MODULE}:no\u200btify",  # zero-width space
    f"{MODULE}:\uff4eotify",  # fullwidth n, NFKC-equal to notify
    f"{MODULE}:not\u0131fy",  # dotless i
    "tests.refjobs.j\u00f6bs:notify",
    f"{MODULE}:notify()",
    f"{MODULE}:notify[0]",
    f"{MODULE}:1notify",
    f"{MODULE}/notify",
    "tests.refjobs.__init__:notify",
    "tests.__main__:x",
]


def test_callables_the_module_defines_resolve() -> None:
    assert import_ref(f"{MODULE}:notify") is victim.notify
    assert import_ref(f"{MODULE}:Jobs") is victim.Jobs
    assert import_ref(f"{MODULE}:Child") is victim.Child  # object's constructor
    assert import_ref(f"{MODULE}:Report") is victim.Report  # its own __init__
    assert import_ref(f"{MODULE}:Jobs.nightly") is victim.Jobs.nightly
    assert import_ref(f"{MODULE}:Jobs.hourly")() == "Jobs"
    assert import_ref(f"{MODULE}:Jobs.Inner.deep")() == "deep"
    assert import_ref(f"{MODULE}:_private")() == "private"  # trusted callers may
    assert import_ref("posix:system") is os.system
    assert import_ref("builtins:print") is print


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_nothing_else_resolves(name: str) -> None:
    with pytest.raises(CallableNotAllowedError):
        import_ref(f"{MODULE}:{name}")


@pytest.mark.parametrize("ref", MALFORMED)
def test_malformed_references_are_refused_by_the_grammar(ref: str) -> None:
    with pytest.raises(CallableNotAllowedError):
        parse_ref(ref)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("os:system", "comes from posix"),
        ("os.path:join", "alias of posixpath"),
        (f"{MODULE}:os.system", "is the module os"),
        (f"{MODULE}:sleep", "comes from time"),
        ("tests.refjobs:notify", f"comes from {MODULE}"),
        ("tests.refjobs:jobs.notify", f"is the module {MODULE}"),
        (f"{MODULE}:client", "is a _Client, not a function"),
        (f"{MODULE}:Shell", "runs Popen.__init__ \\(from subprocess\\)"),
        (f"{MODULE}:LogFile", "runs FileHandler.__init__ \\(from logging\\)"),
    ],
)
def test_refusals_say_where_the_object_comes_from(ref: str, message: str) -> None:
    with pytest.raises(CallableNotAllowedError, match=message):
        import_ref(ref)


@pytest.mark.parametrize(
    "ref",
    [
        f"{MODULE}:missing",  # the module's __getattr__ would answer os.system
        f"{MODULE}:Jobs.missing",
        f"{MODULE}:Child.nightly",  # inherited: Child itself defines no nightly
        "tests.refjobs.jobs.os:system",
        "nope:x",
    ],
)
def test_missing_names_are_not_found_even_with_a_module_getattr(ref: str) -> None:
    with pytest.raises(InvalidJobError, match="cannot be imported"):
        import_ref(ref)


def test_callable_to_ref_round_trips_functions_methods_and_builtins() -> None:
    assert callable_to_ref(victim.notify) == f"{MODULE}:notify"
    assert callable_to_ref(victim.Jobs.hourly) == f"{MODULE}:Jobs.hourly"
    assert callable_to_ref(victim.Jobs.nightly) == f"{MODULE}:Jobs.nightly"
    assert callable_to_ref(os.system) == "posix:system"
    with pytest.raises(InvalidJobError):
        callable_to_ref(victim.client.send)
    with pytest.raises(ConfigurationError):
        callable_to_ref(victim.partial_job)


# -- patterns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "ref", "matches"),
    [
        (f"{MODULE}:*", f"{MODULE}:notify", True),
        (f"{MODULE}:*", f"{MODULE}:os.system", False),
        (f"{MODULE}:*", f"{MODULE}:Jobs.nightly", False),
        (f"{MODULE}:*", "tests.refjobs.jobs.sub:x", False),
        (f"{MODULE}:*", f"{MODULE}:_private", False),
        (f"{MODULE}:_*", f"{MODULE}:_private", True),
        (f"{MODULE}:*.*", f"{MODULE}:Jobs.nightly", True),
        (f"{MODULE}:**", f"{MODULE}:Jobs.Inner.deep", True),
        (f"{MODULE}:**", f"{MODULE}:_Client.send", False),
        (f"{MODULE}:Jobs.**", f"{MODULE}:Jobs._x", False),
        ("tests.refjobs.*:notify", f"{MODULE}:notify", True),
        ("tests.refjobs.*:notify", "tests.refjobs.jobs.deeper:notify", False),
        ("tests.refjobs.*:notify", "tests.refjobs._jobs:notify", False),
        ("tests.**:notify", f"{MODULE}:notify", True),
        ("tests.**:notify", "tests:notify", True),
        ("tests.**:notify", "tests._hidden.jobs:notify", False),
        ("tests.refjobs.j*s:n*", f"{MODULE}:notify", True),
        ("tests.refjobs.j*s:n*", "tests.refjobs.jobs.s:n", False),
        ("tests.jobs:a*", "tests.jobs:add", True),
        ("tests.jobs:a*", "Tests.jobs:add", False),
    ],
)
def test_patterns_match_module_and_name_segment_by_segment(
    pattern: str, ref: str, matches: bool
) -> None:
    assert RefPattern(pattern).matches(parse_ref(ref)) is matches


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("*:*", "top-level module"),
        ("**:*", "top-level module"),
        ("t*:*", "top-level module"),
        ("myapp.jobs", "form"),
        ("myapp.jobs:", "segment ''"),
        ("myapp..jobs:*", "segment ''"),
        ("myapp.jobs:__*", "starts with '__'"),
        ("myapp.__jobs:*", "starts with '__'"),
        ("myapp.jobs:a?", "segment 'a?'"),
        ("myapp.jobs:[ab]", "segment '[ab]'"),
        ("myapp.jobs:***", "segment '***'"),
        ("myapp.**.**:*", "more than one"),
        ("myapp.jobs:* ", "segment '* '"),
        ("myapp.jobs:\uff4e", "segment"),
        ("__main__:*", "starts with '__'"),
    ],
)
def test_bad_patterns_are_refused_naming_the_pattern(pattern: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(reason)) as caught:
        TaskRegistry([pattern])
    assert repr(pattern) in str(caught.value)


def test_a_bad_pattern_set_later_leaves_the_old_ones() -> None:
    registry = TaskRegistry([f"{MODULE}:*"])
    with pytest.raises(ConfigurationError):
        registry.allowed_patterns += ("*:*",)
    assert registry.allowed_patterns == (f"{MODULE}:*",)


# -- the untrusted check ---------------------------------------------------------------------

BROAD = [f"{MODULE}:**", "tests.refjobs.**:**", "builtins:*", "os.**:*"]


@pytest.mark.parametrize("name", REFUSED_NAMES + PRIVATE)
def test_even_broad_patterns_allow_only_what_the_module_defines(name: str) -> None:
    with pytest.raises(CallableNotAllowedError):
        TaskRegistry(BROAD).check_allowed(f"{MODULE}:{name}")


@pytest.mark.parametrize("ref", ["tests.refjobs:notify", "tests.refjobs:jobs.notify"])
def test_a_package_re_export_is_not_allowed(ref: str) -> None:
    with pytest.raises(CallableNotAllowedError):
        TaskRegistry(BROAD).check_allowed(ref)


@pytest.mark.parametrize(
    "ref", ["os.path:join", "os:system", "builtins:eval", "__main__:os.system", "__main__:main"]
)
def test_other_modules_are_refused_unless_a_pattern_names_them(ref: str) -> None:
    with pytest.raises(CallableNotAllowedError):
        TaskRegistry([f"{MODULE}:*"]).check_allowed(ref)


def test_builtins_are_allowed_only_when_an_operator_names_the_module() -> None:
    TaskRegistry(["builtins:*"]).check_allowed("builtins:print")


def test_a_reference_matching_no_pattern_is_not_imported() -> None:
    sys.modules.pop("tests.api.never_imported", None)
    registry = TaskRegistry(["tests.api.*:other", f"{MODULE}:*"])
    for ref in ["tests.api.never_imported:payload", "tests.api.never_imported:os.system"]:
        with pytest.raises(CallableNotAllowedError, match="matches no allowed pattern"):
            registry.check_allowed(ref)
    assert "tests.api.never_imported" not in sys.modules


def test_registered_tasks_pass_by_name() -> None:
    registry = TaskRegistry()
    registry.register(victim.client.send, "send")
    registry.check_allowed("send")
    assert registry.is_allowed("send")
    assert not registry.is_allowed(f"{MODULE}:notify")


# -- properties ------------------------------------------------------------------------------

#: Names a reference may try: everything the victim module holds (imports, dunders,
#: instances), class members, other modules' names, and junk with dots, spaces, look-alikes.
_NAMES = [*sorted(vars(victim)), "nightly", "hourly", "Inner", "deep", "method", "send"]
_SEGMENTS = st.one_of(
    st.sampled_from(["notify", "Jobs", "nightly", "hourly", "Inner", "deep", "_Client", "send"]),
    st.sampled_from(_NAMES),
    st.sampled_from(["os", "path", "system", "eval", "refjobs", "tests", "jobs", "posix"]),
    st.text(alphabet="abcos_ .:\u0131\uff4e*", min_size=0, max_size=6),
)
_MODULES = st.one_of(
    st.just(MODULE),
    st.sampled_from(
        [MODULE, "tests.refjobs", "tests", "os", "os.path", "posix", "builtins", "__main__"]
    ),
    st.lists(_SEGMENTS, min_size=1, max_size=3).map(".".join),
)
_DEFINED = [
    "notify",
    "Jobs",
    "Jobs.nightly",
    "Jobs.hourly",
    "Jobs.Inner.deep",
    "Child",
    "Report",
]
_KNOWN = [f"{MODULE}:{name}" for name in _DEFINED + REFUSED_NAMES + PRIVATE] + MALFORMED
_REFS = st.one_of(
    st.sampled_from(_KNOWN),
    st.builds(
        lambda module, names: f"{module}:{'.'.join(names)}",
        _MODULES,
        st.lists(_SEGMENTS, min_size=1, max_size=3),
    ),
)
_WILDCARDS = st.sampled_from(["*", "**", "*s", "n*", "_*", "*_*", "J*", "*e*"])
_PATTERNS = st.builds(
    lambda module, names: f"{module}:{'.'.join(names)}",
    st.one_of(
        _MODULES,
        st.sampled_from(["tests.refjobs.*", "tests.**", "tests.*.jobs", "os.**", "builtins"]),
    ),
    st.lists(st.one_of(_WILDCARDS, _SEGMENTS), min_size=1, max_size=3),
)


def _defining_module(obj: Any) -> object:
    """Where a resolved callable was defined (a class method is bound: look at its function)."""
    if inspect.ismethod(obj):
        obj = obj.__func__
    return getattr(obj, "__module__", None)


def _registry(patterns: list[str]) -> TaskRegistry | None:
    try:
        return TaskRegistry(patterns)
    except ConfigurationError:
        return None


def _generalised(ref: str) -> st.SearchStrategy[str]:
    """Patterns made from ``ref`` by turning some of its segments into wildcards, so that
    generated patterns often match generated references."""
    module, _, name = ref.partition(":")

    def wild(segment: str) -> st.SearchStrategy[str]:
        return st.sampled_from([segment, "*", "**", segment[:1] + "*", "*" + segment[-1:]])

    first, *rest = module.split(".")
    return st.builds(
        lambda m, n: f"{'.'.join([first, *m])}:{'.'.join(n)}",
        st.tuples(*(wild(segment) for segment in rest)),
        st.tuples(*(wild(segment) for segment in name.split("."))),
    )


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_nothing_allowed_resolves_outside_the_named_module(data: st.DataObject) -> None:
    ref = data.draw(_REFS, "ref")
    patterns = data.draw(st.lists(st.one_of(_PATTERNS, _generalised(ref)), max_size=4))
    registry = _registry(patterns)
    if registry is None or not registry.is_allowed(ref):
        return
    parsed = parse_ref(ref)
    assert any(RefPattern(p).matches(parsed) for p in patterns)
    assert _defining_module(registry.resolve(ref)) == parsed.module


@settings(max_examples=400, deadline=None)
@given(ref=_REFS)
def test_whatever_resolves_was_defined_in_the_named_module(ref: str) -> None:
    try:
        func = import_ref(ref)
    except ConfigurationError:
        return
    assert _defining_module(func) == parse_ref(ref).module
    assert callable(func)


@given(
    module=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,4}", fullmatch=True), min_size=1),
    names=st.lists(st.from_regex(r"_?[A-Za-z][A-Za-z0-9_]{0,4}", fullmatch=True), min_size=1),
    depth=st.integers(min_value=1, max_value=4),
)
def test_a_star_never_crosses_a_dot(module: list[str], names: list[str], depth: int) -> None:
    """``top.*.*:*`` matches exactly the refs with that many module segments and one public
    name: never one more segment on either side."""
    ref = parse_ref(f"{'.'.join(module)}:{'.'.join(names)}")
    pattern = RefPattern(f"{module[0]}{'.*' * (depth - 1)}:*")
    expected = len(module) == depth and len(names) == 1 and not names[0].startswith("_")
    assert pattern.matches(ref) is expected
