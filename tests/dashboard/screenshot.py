"""Writes ``docs/dashboard.png``: the dashboard of a small, busy installation.

Run ``.venv/bin/python -m tests.dashboard.screenshot [PATH]`` after changing the pages; a
test runs it into a temporary file so it keeps working.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests import jobs
from tests.dashboard.conftest import CHROMIUM, CHROMIUM_ARGS, build_app, serve
from tickwork.flask import APScheduler

DEFAULT_PATH = Path(__file__).parents[2] / "docs" / "dashboard.png"
VIEWPORT = {"width": 1280, "height": 900}


def backup_database() -> str:
    return "backup-2026.tar.zst, 1.2 GB"


def send_digest(team: str) -> str:
    return f"sent to {team}"


def refresh_cache() -> int:
    return 1432


def sync_crm() -> None:
    raise ConnectionError("crm.example.com did not answer within 30 s")


def _populate(extension: APScheduler) -> None:
    """Jobs of every trigger kind, one paused, one failing, one still running."""
    module = "tests.dashboard.screenshot"  # not __main__, so that the jobs import anywhere
    add = extension.add_job
    add(
        "nightly-backup", f"{module}:backup_database", trigger="cron", hour=2, name="Nightly backup"
    )
    add(
        "weekday-digest",
        f"{module}:send_digest",
        trigger="cron",
        day_of_week="mon-fri",
        hour=9,
        minute=30,
        args=["ops"],
        name="Weekday digest",
    )
    add("refresh-cache", f"{module}:refresh_cache", trigger="interval", minutes=5)
    add("sync-crm", f"{module}:sync_crm", trigger="interval", minutes=15, name="CRM sync")
    add(
        "monthly-invoices",
        "tests.jobs:record",
        trigger="calendarinterval",
        months=1,
        hour=6,
        name="Monthly invoices",
    )
    add("reindex-search", "tests.jobs:wait_for_gate", trigger="interval", hours=6, args=[60])
    add("purge-sessions", "tests.jobs:record", trigger="interval", hours=1)
    extension.pause_job(
        "purge-sessions", note="until the new session store is live", requested_by="dana"
    )
    for job_id in ("nightly-backup", "refresh-cache", "sync-crm", "refresh-cache", "sync-crm"):
        extension.run_job(job_id)
        time.sleep(0.3)
    extension.run_job("weekday-digest", args=["support"], requested_by="dana")
    time.sleep(0.3)
    extension.run_job("reindex-search")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(extension.get_runs(outcome="running")) != 1:
        time.sleep(0.1)


def take_screenshot(browser: Any, path: Path, database_url: str) -> None:
    """Start a populated app on ``database_url`` and save a full-page screenshot."""
    app, extension = build_app(database_url)
    extension.start()
    root, stop = serve(app)
    try:
        _populate(extension)
        context = browser.new_context(
            viewport=VIEWPORT, locale="en-US", timezone_id="UTC", color_scheme="light"
        )
        page = context.new_page()
        page.goto(f"{root}/scheduler/ui/")
        page.locator("#runs tbody tr").nth(5).wait_for()
        page.locator("#jobs tbody tr").nth(6).wait_for()
        page.wait_for_function(  # every job's last run is known
            "![...document.querySelectorAll('#jobs .badge')].some((b) => b.textContent === '…')"
        )
        page.evaluate("document.activeElement && document.activeElement.blur()")
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        context.close()
    finally:
        jobs.gate.set()
        stop()
        extension.scheduler.close()
        jobs.gate.clear()


def main() -> None:
    from playwright.sync_api import sync_playwright

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        take_screenshot(browser, path, f"sqlite:///{folder}/tickwork.sqlite")
        browser.close()
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
