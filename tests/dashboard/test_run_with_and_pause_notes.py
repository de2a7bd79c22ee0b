"""The "Run with…" dialog and pausing with a note, in headless Chromium against a real
server: what the page sends is checked through the REST API, refusals are shown in the
dialog beside the field the API names, and a note stays on the job until it is resumed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests import jobs
from tests.dashboard.conftest import Dashboard
from tests.dashboard.test_dashboard import job_row


def _add(dashboard: Dashboard) -> None:
    dashboard.extension.add_job(
        "report",
        "tests.jobs:record_kwargs",
        trigger="interval",
        hours=1,
        args=["own"],
        kwargs={"n": 1},
    )


def test_run_with_arguments_runs_them_and_history_shows_them(
    dashboard: Dashboard, page: Page
) -> None:
    _add(dashboard)
    page.goto(dashboard.url)

    job_row(page, "report").get_by_role("button", name="Run with arguments report").click()
    dialog = page.get_by_role("dialog", name="Run report with…")
    expect(dialog).to_be_visible()
    args = dialog.get_by_label("Arguments (JSON array)")
    expect(args).to_be_focused()
    expect(args).to_have_attribute("placeholder", '["own"]')
    args.fill('["2026-11", 3]')
    dialog.get_by_label("Keyword arguments (JSON object)").fill('{"dry_run": true}')
    dialog.get_by_role("button", name="Run now").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text(
        "Started a run of report with its own args and kwargs."
    )
    run_row = page.locator("#runs tbody tr").first
    expect(run_row).to_contain_text("succeeded")
    expect(run_row).to_contain_text('args ["2026-11",3] · kwargs {"dry_run":true}')
    [run] = dashboard.api("GET", "/jobs/report/runs").json()
    assert (run["args"], run["kwargs"]) == (["2026-11", 3], {"dry_run": True})
    assert ("2026-11", 3, {"dry_run": True}) in jobs.calls
    run_with = job_row(page, "report").get_by_role("button", name="Run with arguments report")
    expect(run_with).to_be_focused()


def test_the_apis_refusal_is_shown_in_the_dialog_beside_its_field(
    sqlite_dashboard: Dashboard, page: Page
) -> None:
    _add(sqlite_dashboard)
    page.goto(sqlite_dashboard.url)
    job_row(page, "report").get_by_role("button", name="Run with arguments report").click()
    dialog = page.get_by_role("dialog")
    kwargs = dialog.get_by_label("Keyword arguments (JSON object)")

    kwargs.fill('["not", "an object"]')  # valid JSON: only the API can refuse it
    dialog.get_by_role("button", name="Run now").click()

    error = dialog.get_by_role("alert")
    expect(error).to_have_text("kwargs must be a JSON object")
    expect(kwargs).to_have_attribute("aria-invalid", "true")
    expect(kwargs).to_be_focused()
    expect(dialog).to_be_visible()
    assert sqlite_dashboard.api("GET", "/jobs/report/runs").json() == []

    kwargs.fill("{not json")
    dialog.get_by_role("button", name="Run now").click()
    expect(error).to_have_text("kwargs is not valid JSON.")

    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert sqlite_dashboard.api("GET", "/jobs/report/runs").json() == []

    job_row(page, "report").get_by_role("button", name="Run with arguments report").click()
    expect(error).to_be_hidden()  # a new dialog starts clean
    expect(kwargs).to_have_value("")
    expect(kwargs).not_to_have_attribute("aria-invalid", "true")


def test_empty_fields_run_the_jobs_own_arguments(sqlite_dashboard: Dashboard, page: Page) -> None:
    _add(sqlite_dashboard)
    page.goto(sqlite_dashboard.url)
    job_row(page, "report").get_by_role("button", name="Run with arguments report").click()
    page.get_by_role("dialog").get_by_role("button", name="Run now").click()
    expect(page.get_by_role("status")).to_have_text(
        "Started a run of report with the job's arguments."
    )
    expect(page.locator("#runs tbody tr").first).to_contain_text("succeeded")
    [run] = sqlite_dashboard.api("GET", "/jobs/report/runs").json()
    assert (run["args"], run["kwargs"]) == (None, None)


def test_a_note_given_when_pausing_is_shown_until_resumed(dashboard: Dashboard, page: Page) -> None:
    _add(dashboard)
    page.goto(dashboard.url)
    row = job_row(page, "report")

    row.get_by_role("button", name="Pause report").click()
    dialog = page.get_by_role("dialog", name="Pause report?")
    note = dialog.get_by_label("Note (optional)")
    expect(note).to_be_focused()
    note.fill("Waiting for the <b>DB</b> migration")
    page.keyboard.press("Enter")

    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("paused")
    shown = row.locator(".pause-note")
    expect(shown).to_contain_text("Waiting for the <b>DB</b> migration")
    expect(shown).to_have_attribute("title", "paused " + _absolute(page, dashboard))
    job = dashboard.api("GET", "/jobs/report").json()
    assert job["paused_note"] == "Waiting for the <b>DB</b> migration"
    expect(row.locator("b")).to_have_count(0)

    row.get_by_role("button", name="Resume report").click()

    expect(row).to_contain_text("active")
    expect(shown).to_be_hidden()
    assert dashboard.api("GET", "/jobs/report").json()["paused_note"] is None


def test_a_refused_note_is_shown_and_the_job_stays_active(
    sqlite_dashboard: Dashboard, page: Page
) -> None:
    _add(sqlite_dashboard)
    page.goto(sqlite_dashboard.url)
    job_row(page, "report").get_by_role("button", name="Pause report").click()
    dialog = page.get_by_role("dialog")
    note = dialog.get_by_label("Note (optional)")

    note.fill("x" * 1001)
    dialog.get_by_role("button", name="Pause job").click()

    expect(dialog.get_by_role("alert")).to_have_text(
        "note must be at most 1000 characters, got 1001"
    )
    expect(note).to_have_attribute("aria-invalid", "true")
    assert sqlite_dashboard.api("GET", "/jobs/report").json()["next_run_time"] is not None

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(job_row(page, "report")).to_contain_text("active")


def _absolute(page: Page, dashboard: Dashboard) -> str:
    """The job's pause time as the page formats absolute times (the browser's locale)."""
    paused_at = dashboard.api("GET", "/jobs/report").json()["paused_at"]
    formatted: str = page.evaluate(
        """(iso) => new Intl.DateTimeFormat(undefined, {dateStyle: "medium",
            timeStyle: "medium"}).format(new Date(iso))""",
        paused_at,
    )
    return formatted
