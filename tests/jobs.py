"""Importable job functions for tests (jobs are stored by reference, so they must import)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

calls: list[tuple[object, ...]] = []
_lock = threading.Lock()
gate = threading.Event()


def record(*args: object) -> str:
    with _lock:
        calls.append(args)
    return "ok"


def fail(message: str = "boom") -> None:
    raise RuntimeError(message)


def wait_for_gate(timeout: float = 10.0) -> None:
    gate.wait(timeout)


def record_and_hold(*args: object, **kwargs: object) -> str:
    """Record the call, then hold until the gate opens: a run that stays running."""
    with _lock:
        calls.append((*args, kwargs))
    gate.wait(30)
    return "held"


def record_kwargs(*args: object, **kwargs: object) -> list[object]:
    """Record positional and keyword arguments; returns them as the run's result."""
    with _lock:
        calls.append((*args, kwargs))
    return [list(args), kwargs]


def sleep(seconds: float) -> None:
    time.sleep(seconds)


async def async_record(*args: object) -> str:
    await asyncio.sleep(0)
    with _lock:
        calls.append(("async", *args))
    return "async-ok"


def append_line(path: str, text: str, seconds: float = 0.0) -> int:
    """Append ``text`` and this process's pid to a file (one write, so lines from several
    processes never interleave), then sleep ``seconds``; lets tests count fires across
    processes."""
    with Path(path).open("a") as handle:
        handle.write(f"{text}\t{os.getpid()}\n")
    time.sleep(seconds)
    return os.getpid()


def append_span(path: str, text: str, seconds: float) -> None:
    """Sleep ``seconds`` and append ``text``, the pid and the call's start and end (epoch
    seconds): lets tests check that executions never overlapped, across processes."""
    started = time.time()
    time.sleep(seconds)
    with Path(path).open("a") as handle:
        handle.write(f"{text}\t{os.getpid()}\t{started}\t{time.time()}\n")


def add(a: int, b: int) -> int:
    return a + b


def exit_process(code: int) -> None:
    """Kill the worker process outright, as a crashing extension or the OOM killer would."""
    os._exit(code)


def deep_result(depth: int = 100_000) -> list[object]:
    """A value too deep for json.dumps and for repr (both raise RecursionError)."""
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


class _BadRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr for you")


def bad_repr_result() -> object:
    return _BadRepr()


class _BadStrError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def bad_str_error() -> None:
    raise _BadStrError


def hostile_text_error() -> None:
    """An error text that PostgreSQL cannot store as is (NUL, a lone surrogate)."""
    raise RuntimeError("nul \x00 and surrogate \ud800")


def system_exit() -> None:
    raise SystemExit(3)


async def async_cancelled() -> None:
    raise asyncio.CancelledError


async def async_system_exit() -> None:
    raise SystemExit(4)


def wait_for_file(path: str, timeout: float = 60.0) -> str:
    """Wait (in any process) until ``path`` exists; lets a test hold a process-pool job."""
    deadline = time.monotonic() + timeout
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return "released"


def echo(value: object) -> object:
    return value


def keyboard_interrupt() -> None:
    """What Ctrl+C (or ``tickwork jobs run``'s SIGTERM handler) raises inside a job."""
    raise KeyboardInterrupt


async def async_wait_for_gate(timeout: float = 30.0) -> None:
    """Wait on the event loop, without blocking it, until the gate opens."""
    for _ in range(int(timeout / 0.01)):
        if gate.is_set():
            return
        await asyncio.sleep(0.01)


def log_execution(path: str, job_id: str, seconds: float, scheduled: str = "") -> None:
    """Sleep ``seconds``, then append one line: job id, the fire's scheduled time (passed
    by :mod:`tests.acceptance.fault_node`), pid, start and end (epoch seconds). One write,
    so lines of several processes never interleave; a call killed midway logs nothing."""
    started = time.time()
    time.sleep(seconds)
    line = f"{job_id}\t{scheduled}\t{os.getpid()}\t{started}\t{time.time()}\n"
    with Path(path).open("a") as handle:
        handle.write(line)


def until_cancelled(seconds: float = 30.0) -> str:
    """Note the start, wait (up to ``seconds``) for the run to be cancelled, note what
    :func:`tickwork.current_run` said, then hold until the gate opens: a thread that
    outlives its timeout, whose late result must not be recorded."""
    from tickwork import current_run

    run = current_run()
    with _lock:
        calls.append(("started", run.job_id))
    cancelled = run.wait_cancelled(seconds)
    with _lock:
        calls.append(("cancelled" if cancelled else "not cancelled", run.job_id))
    gate.wait(seconds)
    return "late"


def describe_current_run() -> list[object]:
    from tickwork import current_run

    run = current_run()
    return [run.job_id, run.scheduled_time.isoformat(), run.cancelled]


async def async_until_cancelled(seconds: float = 30.0) -> str:
    """Sleep on the loop; note a cancellation (and let it end the task)."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        with _lock:
            calls.append(("async cancelled",))
        raise
    return "slept"
