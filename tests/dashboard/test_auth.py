"""Signing in: when the API answers 401, the dashboard asks for a token or a user and
password, keeps them for the tab, and sends them as the Authorization header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Dashboard
from tickwork.flask import HTTPBasicAuth

TOKEN = "s3cret-token-0123456789"


def test_token_login(make_dashboard: Callable[..., Dashboard], sqlite_url: str, page: Page) -> None:
    dashboard = make_dashboard(sqlite_url, SCHEDULER_API_TOKENS=[TOKEN])
    dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    page.goto(dashboard.url)

    login = page.get_by_role("region", name="Sign in")
    expect(login).to_be_visible()
    expect(page.locator("#content")).to_be_hidden()
    expect(page.get_by_label("Token", exact=True)).to_be_focused()
    expect(page.get_by_label("User name", exact=True)).to_be_hidden()
    expect(page.get_by_role("switch")).to_be_hidden()

    page.get_by_label("Token", exact=True).fill("wrong-token-0123456789")
    login.get_by_role("button", name="Sign in").click()
    expect(login).to_contain_text("Those credentials were refused.")

    page.get_by_label("Token", exact=True).fill(TOKEN)
    page.keyboard.press("Enter")
    expect(login).to_be_hidden()
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    expect(page.locator("#jobs-heading")).to_be_focused()

    # Kept for the tab: a reload does not ask again; signing out does.
    page.reload()
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    expect(login).to_be_hidden()
    page.get_by_role("button", name="Sign out").click()
    expect(login).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_basic_login_and_actions_carry_the_credentials(
    make_dashboard: Callable[..., Dashboard], sqlite_url: str, page: Page
) -> None:
    dashboard = make_dashboard(sqlite_url, SCHEDULER_AUTH=HTTPBasicAuth())

    @dashboard.extension.authenticate
    def authenticate(auth: Any) -> bool:
        return bool(auth["username"] == "guest" and auth["password"] == "gäst")

    dashboard.extension.add_job("report", "tests.jobs:record", trigger="interval", hours=1)
    dashboard.authorization = "Basic Z3Vlc3Q6Z+RzdA=="  # guest:gäst in Latin-1
    assert dashboard.api("GET").status_code == 200
    page.goto(dashboard.url)

    # The API challenges with Basic, so that method is offered first.
    expect(page.get_by_label("User name and password")).to_be_checked()
    expect(page.get_by_label("Token", exact=True)).to_be_hidden()
    page.get_by_label("User name", exact=True).fill("guest")
    page.get_by_label("Password", exact=True).fill("gäst")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("button", name="Pause report").click()
    page.get_by_role("dialog").get_by_label("Note (optional)").fill("guest was here")
    page.get_by_role("button", name="Pause job").click()
    expect(page.get_by_role("status")).to_have_text("Paused report: guest was here")
    job = dashboard.api("GET", "/jobs/report").json()
    assert (job["next_run_time"], job["paused_note"]) == (None, "guest was here")
    assert job["paused_by"] == "guest"  # who paused: the signed-in user
    expect(page.locator("#jobs tbody tr .pause-note")).to_contain_text("by guest")
