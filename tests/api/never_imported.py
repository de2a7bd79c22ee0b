"""Importing this module is the failure the allow-list tests look for."""

from __future__ import annotations

IMPORTED = True


def payload() -> None:
    raise AssertionError("a refused callable ran")
