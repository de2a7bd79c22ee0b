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
