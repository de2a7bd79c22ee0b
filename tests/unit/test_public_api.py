"""The package root exports exactly what ``__all__`` says."""

from __future__ import annotations

import types

import tickwork


def test_public_names_are_exactly_all() -> None:
    public = {
        name
        for name, value in vars(tickwork).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(tickwork.__all__) - {"__version__"}
    for name in tickwork.__all__:
        assert getattr(tickwork, name) is not None
