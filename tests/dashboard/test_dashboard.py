"""The dashboard in headless Chromium against a real server: every change made through the
page is checked through the REST API, and every change made elsewhere shows up live."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.conftest import eventually
from tests.dashboard.conftest import Dashboard
from tests.integration.rows import corrupt_job


def job_row(page: Page, label: str) -> Any:
    return page.locator("#jobs tbody tr").filter(
        has=page.get_by_role("rowheader").filter(has_text=label)
    )


def test_lists_jobs_with_trigger_next_run_and_state(dashboard: Dashboard, page: Page) -> None:
    extension = dashboard.extension
    extension.add_job("report", "tests.jobs:record", trigger="interval", minutes=90)
    extension.add_job("digest", "tests.jobs:record", trigger="cron", hour=9, minute=30)
    extension.add_job("cleanup", "tests.jobs:record", trigger="interval", seconds=30)
    extension.pause_job("cleanup")

    page.goto(dashboard.url)

    expect(page.locator("#jobs tbody tr")).to_have_count(3)
    expect(page.locator("#job-count")).to_have_text("(3)")
    report = job_row(page, "report")
    expect(report.get_by_role("cell").nth(0)).to_have_text("every 1 h 30 min")
    expect(report.locator("time").first).to_have_text(re.compile(r"^in \d+ (hr|min)"))
    expect(report).to_contain_text("active")
    expect(job_row(page, "digest")).to_contain_text("daily at 09:30")
    cleanup = job_row(page, "cleanup")
    expect(cleanup).to_contain_text("every 30 s")
    expect(cleanup).to_contain_text("paused")
    expect(cleanup.get_by_role("button", name="Resume cleanup")).to_be_visible()
    node = extension.get_node()
    nodes = page.locator("#nodes tbody tr")
    expect(nodes).to_have_count(1)
    expect(nodes).to_contain_text(f"{node.host}:{node.pid}")
    expect(nodes).to_contain_text("this server")
    expect(nodes).to_contain_text(re.compile(r"\d+ s ago"))


def test_shows_a_failed_runs_error_and_traceback(dashboard: Dashboard, page: Page) -> None:
    dashboard.extension.add_job(
        "flaky", "tests.jobs:fail", trigger="interval", hours=1, args=["disk full"]
    )
    page.goto(dashboard.url)

    job_row(page, "flaky").get_by_role("button", name="Run now flaky").click()

    run = page.locator("#runs tbody tr").first
    expect(run).to_contain_text("RuntimeError: disk full")
    expect(run).to_contain_text("failed")
    expect(run).to_contain_text("run now")
    expect(job_row(page, "flaky")).to_contain_text("failed")
    traceback = run.locator("pre")
    expect(traceback).to_be_hidden()
    run.locator("summary").click()
    expect(traceback).to_be_visible()
    expect(traceback).to_contain_text("raise RuntimeError(message)")
    # The live refresh keeps the traceback open.
    page.wait_for_timeout(2500)
    expect(traceback).to_be_visible()
    runs = dashboard.api("GET", "/jobs/flaky/runs").json()
    assert [(r["outcome"], r["error"]) for r in runs] == [("failed", "RuntimeError: disk full")]


def test_pauses_and_resumes_a_job(dashboard: Dashboard, page: Page) -> None:
    dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    page.goto(dashboard.url)
    row = job_row(page, "report")

    row.get_by_role("button", name="Pause report").click()
    page.get_by_role("button", name="Pause job").click()

    expect(row).to_contain_text("paused")
    expect(page.get_by_role("status")).to_have_text("Paused report.")
    assert dashboard.api("GET", "/jobs/report").json()["next_run_time"] is None

    row.get_by_role("button", name="Resume report").click()

    expect(row).to_contain_text("active")
    assert dashboard.api("GET", "/jobs/report").json()["next_run_time"] is not None


def test_global_switch_pauses_and_resumes_the_scheduler(dashboard: Dashboard, page: Page) -> None:
    page.goto(dashboard.url)
    switch = page.get_by_role("switch", name="Pause scheduler")
    expect(switch).to_have_attribute("aria-checked", "false")

    switch.click()

    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.locator("#cluster-state")).to_have_text("Paused: no job runs")
    assert dashboard.api("GET").json()["is_paused"] is True

    switch.press("Space")

    expect(switch).to_have_attribute("aria-checked", "false")
    assert dashboard.api("GET").json()["is_paused"] is False


def test_run_now_creates_a_run(dashboard: Dashboard, page: Page) -> None:
    dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    page.goto(dashboard.url)

    job_row(page, "report").get_by_role("button", name="Run now report").click()

    expect(page.get_by_role("status")).to_have_text("Started a run of report.")
    run = page.locator("#runs tbody tr").first
    expect(run).to_contain_text("succeeded")
    expect(run).to_contain_text('→ "ok"')
    runs = dashboard.api("GET", "/jobs/report/runs").json()
    assert [(r["outcome"], r["manual"]) for r in runs] == [("succeeded", True)]


def test_delete_asks_first_and_removes_the_job(dashboard: Dashboard, page: Page) -> None:
    dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    page.goto(dashboard.url)
    delete = job_row(page, "report").get_by_role("button", name="Delete report")

    delete.click()
    dialog = page.get_by_role("dialog", name="Delete job?")
    expect(dialog).to_contain_text("report")
    dialog.get_by_role("button", name="Cancel").click()

    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    assert dashboard.api("GET", "/jobs/report").status_code == 200

    delete.click()
    dialog.get_by_role("button", name="Delete job").click()

    expect(page.locator("#jobs tbody tr")).to_have_count(0)
    expect(page.locator("#jobs-empty")).to_be_visible()
    assert dashboard.api("GET", "/jobs/report").status_code == 404


def test_history_of_one_job(sqlite_dashboard: Dashboard, page: Page) -> None:
    extension = sqlite_dashboard.extension
    extension.add_job("a", "tests.jobs:record", trigger="interval", hours=1)
    extension.add_job("b", "tests.jobs:fail", trigger="interval", hours=1)
    extension.run_job("a")
    extension.run_job("b")
    eventually(
        lambda: len(extension.get_runs()) == 2 and extension.get_runs(outcome="running") == []
    )
    page.goto(sqlite_dashboard.url)
    expect(page.locator("#runs tbody tr")).to_have_count(2)

    job_row(page, "b").get_by_role("button", name="History of b").click()

    expect(page.locator("#runs-heading")).to_be_focused()
    expect(page.get_by_label("Job", exact=True)).to_have_value("b")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    expect(page.locator("#runs tbody tr")).to_contain_text("RuntimeError: boom")
    page.get_by_label("Job", exact=True).select_option("")
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    page.get_by_label("Outcome").select_option("succeeded")
    expect(page.locator("#runs tbody tr")).to_have_count(1)
    expect(page.locator("#runs tbody tr")).to_contain_text("succeeded")


def test_pauses_and_resumes_a_node(sqlite_dashboard: Dashboard, page: Page) -> None:
    node = sqlite_dashboard.extension.get_node()
    page.goto(sqlite_dashboard.url)
    label = f"{node.host}:{node.pid}"

    page.get_by_role("button", name=f"Pause node {label}").click()

    expect(page.locator("#nodes tbody tr")).to_contain_text("paused")
    assert sqlite_dashboard.api("GET", f"/nodes/{node.id}").json()["is_paused"] is True
    page.get_by_role("button", name=f"Resume node {label}").click()
    expect(page.locator("#nodes tbody tr")).to_contain_text("active")
    assert sqlite_dashboard.api("GET", f"/nodes/{node.id}").json()["is_paused"] is False


def test_changes_made_elsewhere_show_up_live(sqlite_dashboard: Dashboard, page: Page) -> None:
    page.goto(sqlite_dashboard.url)
    expect(page.locator("#jobs-empty")).to_be_visible()

    sqlite_dashboard.api(
        "POST",
        "/jobs",
        json={"id": "late", "func": "tests.jobs:record", "trigger": "interval", "seconds": 60},
    ).raise_for_status()

    expect(job_row(page, "late")).to_contain_text("every minute")
    sqlite_dashboard.api("POST", "/pause").raise_for_status()
    expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")


def test_keyboard_focus_survives_the_live_refresh(sqlite_dashboard: Dashboard, page: Page) -> None:
    sqlite_dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    page.goto(sqlite_dashboard.url)
    button = page.get_by_role("button", name="Pause report")
    button.focus()

    page.keyboard.press("Enter")  # opens the pause dialog, its note field focused
    expect(page.get_by_label("Note (optional)")).to_be_focused()
    page.keyboard.press("Enter")  # pauses, without a note

    resume = page.get_by_role("button", name="Resume report")
    expect(resume).to_be_focused()
    page.wait_for_timeout(2500)  # at least one refresh
    expect(resume).to_be_focused()


def test_server_text_is_never_markup(sqlite_dashboard: Dashboard, page: Page) -> None:
    name = '<img src=x onerror="window.injected=1">'
    sqlite_dashboard.extension.add_job(
        "x", "tests.jobs:record", trigger="interval", hours=1, name=name
    )
    page.goto(sqlite_dashboard.url)

    expect(job_row(page, name)).to_have_count(1)
    expect(page.locator("#jobs img")).to_have_count(0)
    assert page.evaluate("window.injected") is None


def test_fits_a_narrow_screen(sqlite_dashboard: Dashboard, page: Page) -> None:
    sqlite_dashboard.extension.add_job(
        "a-rather-long-job-id", "tests.jobs:record", trigger="interval", hours=1
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(sqlite_dashboard.url)
    expect(page.locator("#jobs tbody tr")).to_have_count(1)

    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_role("button", name="Run now a-rather-long-job-id")).to_be_visible()


def test_a_refused_action_says_why_and_the_message_stays(
    sqlite_dashboard: Dashboard, page: Page
) -> None:
    sqlite_dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    page.clock.install()
    page.goto(sqlite_dashboard.url)
    run_now = page.get_by_role("button", name="Run now report")
    expect(run_now).to_be_visible()
    page.clock.pause_at(time.time() + 0.5)  # no live refresh: the row stays to be clicked
    sqlite_dashboard.api("DELETE", "/jobs/report").raise_for_status()

    run_now.click()

    alert = page.locator("#action-error")
    expect(alert).to_have_text("That did not work: Job report not found")
    expect(alert).to_have_attribute("role", "alert")
    page.clock.run_for(3000)  # refreshes happen; the row goes, the message stays
    expect(page.locator("#jobs tbody tr")).to_have_count(0)
    expect(alert).to_be_visible()


def test_a_job_with_big_arguments_is_listed_without_them(
    sqlite_dashboard: Dashboard, page: Page
) -> None:
    big = ["x" * 100_000]
    sqlite_dashboard.extension.add_job(
        "bulky", "tests.jobs:record", trigger="interval", minutes=5, args=big
    )
    listed = sqlite_dashboard.api("GET", "/jobs").json()
    assert listed[0]["args_truncated"] is True
    assert len(sqlite_dashboard.api("GET", "/jobs").content) < 2000
    page.goto(sqlite_dashboard.url)
    row = job_row(page, "bulky")
    expect(row).to_contain_text("every 5 min")
    row.get_by_role("button", name="Pause bulky").click()
    page.get_by_role("button", name="Pause job").click()
    expect(row).to_contain_text("paused")
    eventually(lambda: sqlite_dashboard.api("GET", "/jobs/bulky").json()["next_run_time"] is None)
    assert sqlite_dashboard.api("GET", "/jobs/bulky").json()["args"] == big


def test_a_broken_job_shows_a_broken_badge_with_its_reason(
    sqlite_dashboard: Dashboard, sqlite_url: str, page: Page
) -> None:
    extension = sqlite_dashboard.extension
    extension.add_job("healthy", "tests.jobs:record", trigger="interval", hours=1)
    extension.add_job("newer", "tests.jobs:record", trigger="interval", seconds=1)
    corrupt_job(sqlite_url, "newer", '{"type": "lunar"}')
    eventually(lambda: extension.scheduler.count_broken_jobs() == 1)

    page.goto(sqlite_dashboard.url)

    newer = job_row(page, "newer")
    badge = newer.locator(".badge-bad")
    expect(badge).to_have_text("broken")
    expect(badge).to_have_attribute("title", re.compile("lunar"))
    expect(job_row(page, "healthy")).to_contain_text("active")
