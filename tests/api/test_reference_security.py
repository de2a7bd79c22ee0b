"""The REST API's safety promise, attacked over real HTTP (waitress) and the test client.

Issue 10: with ``allowed_callables = ["myapp.jobs:*"]`` a client could reach any attribute
of the module (``os.system``, ``__dict__.update``...), rewrite the arguments of a trusted
job, and start more manual runs than ``max_instances``. Each test here fails on that code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests import jobs
from tests.api.http import Api, WaitressApi, open_api
from tests.conftest import eventually
from tests.refjobs import jobs as victim
from tests.unit.test_refs import ISSUE_FORMS, MALFORMED, MODULE, PRIVATE, REFUSED_NAMES
from tickwork import ConfigurationError, Scheduler
from tickwork.flask import APScheduler

MakeApp = Callable[..., tuple[Flask, APScheduler]]
ALLOWED = [f"{MODULE}:*", "tests.jobs:*"]
#: Everything a client may try; all 403 (refused before or after import, never stored).
FORBIDDEN = [
    *(f"{MODULE}:{name}" for name in REFUSED_NAMES + PRIVATE),
    *(ref for ref in MALFORMED if ref),
    "tests.refjobs:notify",
    "tests.refjobs:jobs.notify",
    "tests.refjobs.jobs.os:system",
    f"{MODULE}:Child.nightly",
    "builtins:eval",
    "posix:system",
    "os:system",
    "__main__:main",
    "Tests.refjobs.jobs:notify",
]


@pytest.fixture(params=["flask", "waitress"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(make_app: MakeApp, transport: str) -> Iterator[tuple[Api, APScheduler]]:
    """The app allow-listing the victim module, started, behind the chosen transport."""
    app, scheduler = make_app(SCHEDULER_ALLOWED_CALLABLES=ALLOWED)
    scheduler.start()
    api = open_api(app, transport)
    victim.fired.clear()
    yield api, scheduler
    api.close()


def _globals() -> dict[str, int]:
    return {name: id(value) for name, value in vars(victim).items()}


def _stored(scheduler: APScheduler) -> list[dict[str, Any]]:
    return [job.to_dict() for job in scheduler.get_jobs()]


def test_every_traversal_is_403_stores_nothing_and_runs_nothing(
    served: tuple[Api, APScheduler], tmp_path: Path
) -> None:
    api, scheduler = served
    marker = tmp_path / "pwned"
    evil = {
        "trigger": "date",
        "args": [f"touch {marker}"],
        "kwargs": {"WEBHOOK_URL": "https://evil.example"},
    }
    good = {"id": "good", "func": f"{MODULE}:notify", "trigger": "interval", "hours": 1}
    assert api.call("POST", "/scheduler/jobs", good)[0] == 200
    before, names = _stored(scheduler), _globals()
    wrong = []
    for ref in FORBIDDEN:
        posted = api.call("POST", "/scheduler/jobs", {"id": "evil", "func": ref, **evil})
        patched = api.call("PATCH", "/scheduler/jobs/good", {"func": ref, **evil})
        for verb, (status, body) in (("POST", posted), ("PATCH", patched)):
            if status != 403 or body.get("field") != "func":
                wrong.append((verb, ref, status, body))
    assert wrong == []
    assert _stored(scheduler) == before
    # Had anything been accepted, it would have fired before this later job does.
    api.call("POST", "/scheduler/jobs", {"id": "s", "func": f"{MODULE}:notify", "args": ["s"]})
    eventually(lambda: "s" in victim.fired)
    assert not marker.exists()
    assert _globals() == names
    assert victim.WEBHOOK_URL == "https://hooks.example/tickwork"


def test_issue_forms_over_http_are_each_403(served: tuple[Api, APScheduler]) -> None:
    """The six forms of the issue, one request each, as the report sent them."""
    api, scheduler = served
    for form in ISSUE_FORMS:
        status, body = api.call(
            "POST", "/scheduler/jobs", {"id": "x", "func": f"{MODULE}:{form}", "trigger": "date"}
        )
        assert (status, body["field"]) == (403, "func"), (form, body)
    assert scheduler.get_jobs() == []


def test_what_the_module_defines_is_accepted(served: tuple[Api, APScheduler]) -> None:
    api = served[0]
    status, body = api.call(
        "POST", "/scheduler/jobs", {"id": "n", "func": f"{MODULE}:notify", "args": ["hi"]}
    )
    assert status == 200, body
    eventually(lambda: "hi" in victim.fired)
    assert api.call("POST", "/scheduler/jobs", {"id": "c", "func": f"{MODULE}:Jobs"})[0] == 200
    nightly = {"id": "m", "func": f"{MODULE}:Jobs.nightly"}  # * does not reach into classes
    assert api.call("POST", "/scheduler/jobs", nightly)[0] == 403


def test_a_class_constructed_by_another_module_is_403_and_never_called(
    served: tuple[Api, APScheduler], tmp_path: Path
) -> None:
    """``class Shell(subprocess.Popen)`` is defined in the module, but calling it runs
    ``Popen.__init__`` with the client's arguments: a shell command, or a file opened for
    writing by ``logging.FileHandler``."""
    api, scheduler = served
    marker, precious = tmp_path / "pwned", tmp_path / "precious.txt"
    precious.write_text("keep me")
    attempts = [
        ("Shell", [["sh", "-c", f"touch {marker}"]]),
        ("LogFile", [str(precious), "w"]),
    ]
    for name, args in attempts:
        job = {"id": name, "func": f"{MODULE}:{name}", "args": args}
        status, body = api.call("POST", "/scheduler/jobs", job)
        assert (status, body["field"]) == (403, "func"), (name, body)
        assert "not code of tests.refjobs.jobs" in body["error_message"]
    api.call("POST", "/scheduler/jobs", {"id": "s", "func": f"{MODULE}:notify", "args": ["s"]})
    eventually(lambda: "s" in victim.fired)
    assert [job.id for job in scheduler.get_jobs()] == []
    assert not marker.exists()
    assert precious.read_text() == "keep me"


def test_a_missing_name_is_400_even_when_the_module_getattr_answers(
    served: tuple[Api, APScheduler],
) -> None:
    api, scheduler = served
    status, body = api.call("POST", "/scheduler/jobs", {"id": "x", "func": f"{MODULE}:nothing"})
    assert (status, body["field"]) == (400, "func")
    assert scheduler.get_jobs() == []


def test_a_bad_allow_list_pattern_is_refused_at_init_app(sqlite_url: str) -> None:
    app = Flask(__name__)
    app.config["SCHEDULER_ALLOWED_CALLABLES"] = ["myapp.jobs:**.*", "myapp.*:*", "**:*"]
    scheduler = Scheduler(sqlite_url)
    try:
        with pytest.raises(ConfigurationError, match=r"SCHEDULER_ALLOWED_CALLABLES: .*'\*\*:\*'"):
            APScheduler(scheduler).init_app(app)
    finally:
        scheduler.close()


# -- what a job calls cannot be changed unless the API could have added it --------------------


@pytest.fixture
def trusted_job(served: tuple[Api, APScheduler], tmp_path: Path) -> Path:
    """A job added by trusted code: a shell command the API may never schedule itself."""
    marker = tmp_path / "trusted-ran"
    served[1].add_job("shell", "posix:system", args=[f"touch {marker}"], trigger="date",
                      run_date="2999-01-01T00:00:00+00:00")  # fmt: skip
    return marker


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"args": ["touch /tmp/evil"]}, "args"),
        ({"kwargs": {"x": 1}}, "kwargs"),
        ({"func": "tests.jobs:record"}, "func"),
        ({"name": "renamed", "args": []}, "args"),
        ({"args": None}, "args"),
    ],
)
def test_the_call_of_a_trusted_job_cannot_be_patched(
    served: tuple[Api, APScheduler], trusted_job: Path, change: dict[str, Any], field: str
) -> None:
    api, scheduler = served
    before = _stored(scheduler)
    status, body = api.call("PATCH", "/scheduler/jobs/shell", change)
    assert (status, body["field"]) == (403, field), body
    assert "paused, resumed, run as it is or removed" in body["error_message"]
    assert _stored(scheduler) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"args": ["touch /tmp/evil"]}, "args"),
        ({"kwargs": {"x": 1}}, "kwargs"),
        ({"args": [], "kwargs": {}}, "args"),
    ],
)
def test_a_trusted_job_cannot_be_run_with_arguments_of_its_own(
    served: tuple[Api, APScheduler], trusted_job: Path, body: dict[str, Any], field: str
) -> None:
    """A run-now's arguments are what it calls: ``posix:system`` with the client's command
    would be a shell for anyone who may run jobs."""
    api, scheduler = served
    status, answer = api.call("POST", "/scheduler/jobs/shell/run", body)
    assert (status, answer["field"]) == (403, field), answer
    assert "run as it is" in answer["error_message"]
    assert scheduler.get_runs("shell") == []
    status, _ = api.call("POST", "/scheduler/jobs/shell/run", {"args": None})  # its own
    assert status == 200
    eventually(trusted_job.exists)


def test_a_trusted_job_can_be_managed_and_run_as_it_is(
    served: tuple[Api, APScheduler], trusted_job: Path
) -> None:
    api = served[0]
    assert api.call("PATCH", "/scheduler/jobs/shell", {"name": "nightly shell"})[0] == 200
    assert api.call("PATCH", "/scheduler/jobs/shell", {"trigger": "interval", "hours": 1})[0] == 200
    assert api.call("POST", "/scheduler/jobs/shell/pause")[0] == 200
    assert api.call("POST", "/scheduler/jobs/shell/resume")[0] == 200
    assert api.call("POST", "/scheduler/jobs/shell/run")[0] == 200
    eventually(trusted_job.exists)
    assert api.call("DELETE", "/scheduler/jobs/shell")[0] == 204


def test_allowed_and_registered_jobs_keep_changeable_arguments(
    served: tuple[Api, APScheduler],
) -> None:
    api, scheduler = served
    scheduler.scheduler.registry.register(victim.Jobs.nightly, "nightly")
    for job_id, func in (("allowed", "tests.jobs:record"), ("task", "nightly")):
        assert api.call("POST", "/scheduler/jobs", {"id": job_id, "func": func,
                        "trigger": "interval", "hours": 1})[0] == 200  # fmt: skip
        status, body = api.call("PATCH", f"/scheduler/jobs/{job_id}", {"args": [1]})
        assert (status, body["args"]) == (200, [1])
    status, body = api.call("PATCH", "/scheduler/jobs/allowed", {"func": "nightly"})
    assert (status, body["func"]) == (200, "nightly")


# -- manual runs respect max_instances ---------------------------------------------------------


def test_concurrent_run_nows_start_at_most_max_instances(make_app: MakeApp) -> None:
    app, scheduler = make_app()
    jobs.gate.clear()  # the runs hold until the test opens it
    scheduler.start()
    scheduler.add_job("slow", "tests.jobs:wait_for_gate", trigger="date",
                      run_date="2999-01-01T00:00:00+00:00", max_instances=1)  # fmt: skip
    api = WaitressApi(app)
    start = threading.Barrier(5)
    answers: list[tuple[int, Any]] = []

    def run_now() -> None:
        start.wait(10)
        answers.append(api.call("POST", "/scheduler/jobs/slow/run"))

    try:
        clients = [threading.Thread(target=run_now) for _ in range(5)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(30)
        assert sorted(status for status, _ in answers) == [200, 409, 409, 409, 409]
        refused = next(body for status, body in answers if status == 409)
        assert "max_instances" in refused["error_message"]
        assert [run.outcome.value for run in scheduler.get_runs("slow")] == ["running"]
        jobs.gate.set()
        eventually(lambda: scheduler.get_runs("slow")[0].outcome.value == "succeeded")
        assert api.call("POST", "/scheduler/jobs/slow/run")[0] == 200  # room again
    finally:
        jobs.gate.set()
        api.close()
