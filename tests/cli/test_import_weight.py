"""``import tickwork`` and the commands that serve no HTTP load no web stack.

Each check runs a fresh interpreter, since this process has long imported everything. The
list of loaded modules is read at exit, after the command ran, so a lazy import inside a
command counts too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Modules that only serving HTTP (or migrating a schema: Alembic) may load.
HEAVY = ("flask", "werkzeug", "waitress", "prometheus_client", "alembic")
#: Runs the ``tickwork`` command with the given arguments, then prints which of ``HEAVY``
#: it loaded (as JSON on stderr's last line), whatever the command's exit status.
_WRAPPER = f"""
import atexit, json, sys
atexit.register(lambda: print(json.dumps(
    [name for name in {HEAVY!r} if name in sys.modules]), file=sys.stderr))
from tickwork.cli import main
main(sys.argv[1:], prog_name="tickwork")
"""


def loaded_by(code: str, *args: str, database_url: str = "") -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TICKWORK_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_import_tickwork_loads_no_web_stack() -> None:
    code = _WRAPPER.replace("from tickwork.cli import main", "import tickwork")
    assert loaded_by(code.replace('main(sys.argv[1:], prog_name="tickwork")', "")) == []


def test_creating_the_database_loads_alembic_and_nothing_web(database_url: str) -> None:
    assert loaded_by(_WRAPPER, "db", "upgrade", database_url=database_url) == ["alembic"]


#: Commands that serve no HTTP, run in this order on one database.
COMMANDS = (
    ("jobs", "add", "j", "tests.jobs:record", "-t", "interval", "-a", "minutes=5"),
    ("jobs", "list", "--json"),
    ("runs",),
    ("nodes", "list"),
    ("pause",),
    ("--help",),
)


def test_commands_load_no_web_stack(database_url: str) -> None:
    assert loaded_by(_WRAPPER, "db", "upgrade", database_url=database_url) == ["alembic"]
    for command in COMMANDS:
        assert loaded_by(_WRAPPER, *command, database_url=database_url) == [], command


def test_serve_help_loads_no_web_stack() -> None:
    """``serve`` imports the HTTP stack when it runs, not when the CLI is built."""
    assert loaded_by(_WRAPPER, "serve", "--help") == []
