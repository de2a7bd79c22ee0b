"""Scheduler processes for the cluster scenarios: starting them, talking to them, and
reading what they did (fire files, logs, tickwork's history).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bench.cluster_jobs import OUT_ENV
from bench.harness import (
    ROOT,
    Metrics,
    aps_scheduler,
    output_tail,
    stop,
    tw_scheduler,
)

#: The runner; each scheduler process is ``bench_cluster.py --child SPEC``.
SCRIPT = ROOT / "bench" / "bench_cluster.py"
JOB_REF = "bench.cluster_jobs:append"
#: Seconds the processes keep running after the last scheduled fire.
STOP_GRACE = 3.0
#: Longest wait for a process to say it is started, and to shut down when told to.
READY_TIMEOUT = 60.0
SHUTDOWN_TIMEOUT = 60.0
#: Longest wait after T for a ``nodes_scaling`` burst to settle.
SETTLE_TIMEOUT = 120.0
#: A burst has settled when no process wrote a fire for this long (after T + grace).
QUIET_S = 2.0
_LIVE: set[Child] = set()


class Child:
    """One scheduler process. It prints ``READY <epoch>`` once started, stops when a line
    (or EOF) arrives on stdin, and prints ``RESULT <json>``. stderr goes to a log file."""

    def __init__(self, spec: dict[str, Any], out_path: Path, log_path: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env[OUT_ENV] = str(out_path)
        self.out_path = out_path
        self.log_path = log_path
        self._log: TextIO = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--child", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        _LIVE.add(self)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The payload of the next stdout line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(
                    f"child {self.proc.pid}: no {prefix} line after {timeout:.0f} s\n"
                    f"{self.log_tail()}"
                )
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.proc.wait()
                raise RuntimeError(
                    f"child {self.proc.pid} exited ({code}) before {prefix}\n{self.log_tail()}"
                )
            if line.startswith(prefix + " "):
                return line.removeprefix(prefix + " ")

    def finish(self) -> Metrics:
        """Tell the process to shut down and return its result."""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
        metrics: Metrics = json.loads(self.wait_for("RESULT", SHUTDOWN_TIMEOUT))
        self.proc.wait(SHUTDOWN_TIMEOUT)
        self.close()
        return metrics

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self.close()

    def close(self) -> None:
        self._log.close()
        _LIVE.discard(self)

    def log_tail(self) -> str:
        self._log.flush()
        return output_tail(self.log_path.read_text(errors="replace"))


def kill_all() -> None:
    for child in list(_LIVE):
        child.kill()


@contextlib.contextmanager
def children(count: int, spec: dict[str, Any], workdir: Path) -> Any:
    """Start ``count`` scheduler processes; kill whatever is still running on the way out."""
    started: list[Child] = []
    try:
        for index in range(count):
            started.append(
                Child(spec, workdir / f"fires-{index}.tsv", workdir / f"log-{index}.txt")
            )
        yield started
    finally:
        for child in started:
            child.kill()


def child_main(spec_json: str) -> None:
    """A scheduler process: start, report READY, run until told to stop, report RESULT."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    spec = json.loads(spec_json)
    result: Metrics = {}
    if spec["lib"] == "tickwork":
        scheduler = tw_scheduler(spec["url"])
        scheduler.start()
        result["node_id"] = scheduler.node_id
    else:
        scheduler = aps_scheduler(spec["url"])
        scheduler.start()
    print(f"READY {time.time()}", flush=True)
    sys.stdin.readline()  # a line from the parent, or EOF if the parent died
    began = time.perf_counter()
    stop(scheduler, wait=True)
    result["shutdown_s"] = time.perf_counter() - began
    print("RESULT " + json.dumps(result), flush=True)


def read_fires(paths: list[Path]) -> list[list[tuple[str, float]]]:
    """``(job_id, start epoch)`` per process, from the files the job function appended to."""
    fires = []
    for path in paths:
        rows = []
        if path.exists():
            for line in path.read_text().splitlines():
                job_id, _, started = line.partition("\t")
                rows.append((job_id, float(started)))
        fires.append(rows)
    return fires


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
    return total


def log_entries(text: str) -> list[list[str]]:
    """Split a log into entries: a record with its traceback, or a bare thread traceback."""
    entries: list[list[str]] = []
    for line in text.splitlines():
        starts = bool(_LOG_RECORD.match(line)) or line.startswith("Exception in thread")
        if (
            line.startswith("Traceback")
            and entries
            and any(e.startswith("Traceback") for e in entries[-1])
        ):
            starts = True
        if starts or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    return entries


_LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def log_summary(paths: list[Path]) -> Metrics:
    """Warnings, errors and tracebacks the processes logged, with a few distinct samples
    (the record's line and, for a traceback, its final exception line)."""
    levels: Counter[str] = Counter()
    samples: dict[str, None] = {}
    aps_missed = 0
    for path in paths:
        for entry in log_entries(path.read_text(errors="replace")):
            head = entry[0]
            if "was missed by" in head:
                aps_missed += 1
                continue
            level = next((lv for lv in ("CRITICAL", "ERROR", "WARNING") if f" {lv} " in head), None)
            has_traceback = any(line.startswith("Traceback") for line in entry)
            if level is None and (has_traceback or head.startswith("Exception in thread")):
                level = "ERROR"
            if level is None:
                continue
            levels[level] += 1
            text = _LOG_RECORD.sub("", head)
            if has_traceback:
                text += " | " + next(
                    (line for line in reversed(entry) if line and not line[0].isspace()), ""
                )
            if len(samples) < 8:
                samples[text[:400]] = None
    return {
        "log_warnings": levels["WARNING"],
        "log_errors": levels["ERROR"] + levels["CRITICAL"],
        "log_missed_warnings": aps_missed,
        "log_samples": list(samples),
    }


def history_counts(url: str) -> Metrics:
    """tickwork's run history by outcome (paged: get_runs returns at most 10,000 rows)."""
    from tickwork import Scheduler

    scheduler = Scheduler(url, timezone="UTC")
    try:
        outcomes: Counter[str] = Counter()
        nodes: Counter[str] = Counter()
        slots: Counter[tuple[str, datetime]] = Counter()
        before = None
        while True:
            page = scheduler.get_runs(limit=10_000, before=before)
            for run in page:
                outcomes[run.outcome.value] += 1
                nodes[run.node_id or "-"] += 1
                slots[(run.job_id, run.scheduled_time)] += 1
            if len(page) < 10_000:
                break
            before = page[-1].id
    finally:
        scheduler.close()
    return {
        "history_runs": sum(outcomes.values()),
        "history_outcomes": dict(outcomes),
        "history_nodes": dict(nodes),
        "history_duplicate_slots": sum(n - 1 for n in slots.values() if n > 1),
        **{f"history_{outcome}": outcomes.get(outcome, 0) for outcome in OUTCOMES},
    }


OUTCOMES = ("succeeded", "failed", "missed", "lost", "running")


def sleep_until(epoch: float) -> None:
    while (left := epoch - time.time()) > 0:
        time.sleep(min(left, 1.0))
