"""The screenshot script for the docs keeps working."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.dashboard.screenshot import take_screenshot


def test_screenshot_of_a_populated_dashboard(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "dashboard.png"
    take_screenshot(browser, path, f"sqlite:///{tmp_path}/tickwork.sqlite")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert path.stat().st_size > 20_000
