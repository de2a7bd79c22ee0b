"""A real attack page in a real browser: Chromium visits a page on another site that tries
every write a page can send without a CORS preflight, against the default deployment (an
API without auth on loopback). Each request reaches the server and is refused; nothing
changes. The same-origin dashboard keeps working (the other dashboard tests click through
every write)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

from tests.conftest import eventually
from tests.dashboard.conftest import Dashboard, serve

JOB = {"id": "planted", "func": "tests.jobs:record", "trigger": "date"}

ATTACK = """<!doctype html>
<title>cute cats</title>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="plain" method="post" enctype="text/plain" target="sink1" action="{api}/jobs">
  <input name='{job_head}' value='{job_tail}'>
</form>
<form id="urlencoded" method="post" target="sink2" action="{api}/pause"></form>
<script>
  const api = "{api}";
  document.getElementById("plain").submit();
  document.getElementById("urlencoded").submit();
  fetch(api + "/jobs/existing/run", {{method: "POST", mode: "no-cors"}});
  fetch(api + "/jobs/existing", {{method: "POST", mode: "no-cors", body: "{{}}",
    headers: {{"Content-Type": "text/plain"}}}});
  navigator.sendBeacon(api + "/shutdown");
  fetch(api + "/pause", {{method: "POST", body: "{{}}", credentials: "include",
    headers: {{"Content-Type": "application/json"}}}}).catch(() => {{}});
</script>
"""


def test_a_cross_site_page_cannot_write(
    make_dashboard: Callable[..., Dashboard], sqlite_url: str, browser: Any
) -> None:
    dashboard = make_dashboard(sqlite_url)
    extension = dashboard.extension
    extension.add_job("existing", "tests.jobs:record", trigger="interval", hours=1)
    seen: list[tuple[str, str, int]] = []
    lock = threading.Lock()

    def note(response: Response) -> Response:
        with lock:
            seen.append((request.method, request.path, response.status_code))
        return response

    assert extension.app is not None
    extension.app.after_request(note)
    api = dashboard.root + dashboard.prefix
    text = json.dumps(JOB)
    attacker = Flask("attacker")
    page_html = ATTACK.format(api=api, job_head=text[:-1] + ', "x": "', job_tail='"}')
    attacker.add_url_rule("/", "attack", lambda: page_html)
    # localhost and 127.0.0.1 are different sites to the browser.
    attacker_root, stop = serve(attacker)
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(attacker_root.replace("127.0.0.1", "localhost") + "/")

        def writes() -> list[tuple[str, str, int]]:
            with lock:
                return [entry for entry in seen if entry[0] != "OPTIONS"]

        eventually(lambda: len(writes()) >= 5, timeout=20)
        context.close()
    finally:
        stop()
    refused = writes()
    prefix = dashboard.prefix
    assert {(method, path) for method, path, _ in refused} == {
        ("POST", f"{prefix}/jobs"),
        ("POST", f"{prefix}/pause"),
        ("POST", f"{prefix}/jobs/existing/run"),
        ("POST", f"{prefix}/jobs/existing"),
        ("POST", f"{prefix}/shutdown"),
    }
    for method, path, status in refused:
        assert status in (403, 405), (method, path, status)
    # The JSON fetch needs a preflight, which is not approved: the POST itself never came.
    assert ("OPTIONS", f"{prefix}/pause", 200) in seen
    assert len([entry for entry in refused if entry[1] == f"{prefix}/pause"]) == 1
    assert [job.id for job in extension.get_jobs()] == ["existing"]
    assert not extension.get_scheduler_state().is_paused
    assert extension.running
    assert extension.get_runs() == []
