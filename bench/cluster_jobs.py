"""Job function of the cluster benchmark (``bench_cluster.py``), shared by both libraries.

Several scheduler processes run the same stored jobs, so the record of what ran must survive
the process and be written safely by all of them: every call appends one line
``job_id<TAB>time.time()`` to the file named by ``$TICKWORK_BENCH_OUT`` (one file per process),
with a single ``write()`` on an ``O_APPEND`` descriptor so that lines never interleave. The
parent reads the files after the processes have stopped.
"""

from __future__ import annotations

import os
import threading
import time

#: Environment variable holding the path of this process's output file.
OUT_ENV = "TICKWORK_BENCH_OUT"

_fds: dict[str, int] = {}
_lock = threading.Lock()


def append(job_id: str) -> None:
    """Record that ``job_id`` started now; the clock is read first so lateness excludes I/O."""
    started = time.time()
    os.write(_out(), f"{job_id}\t{started:.6f}\n".encode())


def _out() -> int:
    """The output file's descriptor, opened once per process."""
    fd = _fds.get("out")
    if fd is None:
        with _lock:
            fd = _fds.get("out")
            if fd is None:
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
                fd = _fds["out"] = os.open(os.environ[OUT_ENV], flags, 0o644)
    return fd
