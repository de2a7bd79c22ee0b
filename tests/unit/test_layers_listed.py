"""Every top-level module of tickwork has a place in the import-linter layers contract.

import-linter only checks the modules a contract names, so a new module missing from the
list would escape the layering check silently.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import tickwork

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _layered_modules() -> set[str]:
    config = tomllib.loads(PYPROJECT.read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [contract["layers"] for contract in contracts if contract["type"] == "layers"]
    return {name.strip() for layer in layers for name in layer.split(":")}


def test_every_top_level_module_is_in_a_layer() -> None:
    modules = {
        f"tickwork.{module.name}"
        for module in pkgutil.iter_modules(tickwork.__path__)
        if module.name != "__main__"
    }
    assert modules - _layered_modules() == set()
