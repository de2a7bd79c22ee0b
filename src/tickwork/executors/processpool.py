"""An executor that runs fires in child processes, for CPU-bound jobs."""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing
import signal
import socket
import threading
import weakref
from collections import deque
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from tickwork.clock import SystemClock
from tickwork.exceptions import WorkerDiedError
from tickwork.executors.base import (
    ExecutionContext,
    Executor,
    Finished,
    cancelled,
    check_max_workers,
    failed_result,
    failure,
    run_fire,
)
from tickwork.refs import import_ref
from tickwork.store.base import Fire
from tickwork.supervision import supervised_thread

logger = logging.getLogger(__name__)

_Key = tuple[str, datetime]


class _Worker:
    """One child process and the parent's end of its pipe; runs one fire at a time."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child_end = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child_end,), name="tickwork-process-worker"
        )
        self.process.start()
        child_end.close()
        self.fire: Fire | None = None

    def exit_code(self) -> str:
        self.process.join(1.0)  # its pipe closes a moment before its exit status is known
        code = self.process.exitcode
        return "exit code unknown" if code is None else f"exit code {code}"


class ProcessPoolExecutor(Executor):
    """Runs fires in up to ``max_workers`` processes started with ``spawn``.

    Children import the job's function from its ``module:qualname`` reference, so a task
    registered under a custom name cannot run here. ``spawn`` is used because forking a
    process that has threads (ours and the database driver's) is unsafe.

    Each worker has a pipe of its own, so one worker's end concerns only its own fire: a
    job that kills its process (``os._exit``, a segfault, the OOM killer) fails with the
    exit code, and a run past its timeout has its process killed; either way the worker is
    replaced and the other workers' runs go on. Start marks travel on the same pipe, so a
    run's ``started_at`` (and its timeout's clock) is known while it runs.
    """

    def __init__(self, max_workers: int = 4) -> None:
        self.max_workers = check_max_workers(max_workers)
        self._context: ExecutionContext | None = None
        self._lock = threading.Condition()
        self._queue: deque[Fire] = deque()
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._busy: dict[_Key, _Worker] = {}
        self._closing = False
        self._thread: threading.Thread | None = None
        self._wake_ours: socket.socket | None = None
        self._wake_theirs: socket.socket | None = None

    def start(self, context: ExecutionContext) -> None:
        self._context = context
        self._closing = False
        self._wake_ours, self._wake_theirs = socket.socketpair()
        _live.add(self)
        self._thread = supervised_thread("tickwork-process-pool", self._manage, context.health)
        self._thread.start()

    def submit(self, fire: Fire) -> None:
        with self._lock:
            if self._thread is None or self._closing:
                raise RuntimeError("the process pool is not running")
            self._queue.append(fire)
            self._assign()

    def cancel(self, fire: Fire) -> None:
        """Kill the process running ``fire``; the pool replaces it."""
        with self._lock:  # held, so the worker cannot be given another fire meanwhile
            worker = self._busy.get((fire.job_id, fire.scheduled_time))
            if worker is not None and worker.fire is fire:
                logger.warning("killing worker process %s: its run timed out", worker.process.pid)
                worker.process.kill()

    def _assign(self) -> None:
        """Hand queued fires to idle workers, starting workers up to the limit; call with
        the lock held."""
        started = False
        while self._queue:
            if self._idle:
                worker = self._idle.pop()
            elif len(self._workers) < self.max_workers:
                worker = _Worker()
                self._workers.append(worker)
                started = True
            else:
                break
            fire = self._queue.popleft()
            try:
                worker.connection.send(fire)
            except OSError:  # it died while idle: the manager buries it
                self._queue.appendleft(fire)
                continue
            worker.fire = fire
            self._busy[(fire.job_id, fire.scheduled_time)] = worker
        if started:
            self._wake()

    def _wake(self) -> None:
        if self._wake_theirs is not None:
            with contextlib.suppress(OSError):
                self._wake_theirs.send(b"\0")

    def _manage(self) -> None:
        """The pool's thread: reads every worker's messages and buries dead workers."""
        wake = self._wake_ours
        assert wake is not None
        while True:
            with self._lock:
                workers = list(self._workers)
                if self._closing and not workers:
                    return
            waiting: list[object] = [wake]
            for worker in workers:
                waiting += [worker.connection, worker.process.sentinel]
            ready = set(wait(waiting))  # type: ignore[arg-type]
            if wake in ready:
                wake.recv(4096)
            for worker in workers:
                if worker.connection in ready or worker.process.sentinel in ready:
                    self._serve_worker(worker)

    def _serve_worker(self, worker: _Worker) -> None:
        context = self._context
        assert context is not None
        try:
            while worker.connection.poll():
                kind, value = worker.connection.recv()
                fire = worker.fire
                if fire is None:
                    continue
                if kind == "started":
                    if context.on_started is not None:
                        context.on_started(fire, value)
                else:
                    self._finished(worker, fire)
                    context.on_finished(value)
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            return
        with self._lock:
            self._workers.remove(worker)
            if worker in self._idle:
                self._idle.remove(worker)
            fire = worker.fire
            if fire is not None:
                self._busy.pop((fire.job_id, fire.scheduled_time), None)
            self._lock.notify_all()
        worker.connection.close()
        if fire is not None:
            error = WorkerDiedError(f"worker process died ({worker.exit_code()})")
            context.on_finished(
                Finished(fire, failed_result(fire, None, context.clock.now(), error))
            )
        with self._lock:
            if not self._closing:
                self._assign()  # replaces the worker if fires wait

    def _finished(self, worker: _Worker, fire: Fire) -> None:
        with self._lock:
            self._busy.pop((fire.job_id, fire.scheduled_time), None)
            worker.fire = None
            self._idle.append(worker)
            self._assign()
            self._lock.notify_all()

    def shutdown(self, wait: bool = True) -> None:
        context = self._context
        thread = self._thread
        if thread is None or context is None:
            return
        with self._lock:
            self._closing = True
            dropped = list(self._queue) if not wait else []
            if not wait:
                self._queue.clear()
            # Without waiting: past the shutdown grace period, the children's runs are
            # recorded interrupted already, and a child that never returns must not keep
            # the node alive.
            while wait and (self._queue or self._busy):
                self._assign()
                self._lock.wait(0.1)
            for worker in self._workers:
                if wait:
                    with contextlib.suppress(OSError):
                        worker.connection.send(None)
                else:
                    worker.process.kill()
        for fire in dropped:
            cancelled(context, fire)
        self._wake()
        thread.join()
        self._thread = None
        _live.discard(self)
        for end in (self._wake_ours, self._wake_theirs):
            if end is not None:
                end.close()
        self._wake_ours = self._wake_theirs = None

    def _kill_all(self) -> None:
        with self._lock:
            for worker in self._workers:
                worker.process.kill()


#: Pools not shut down yet: their workers are killed when the interpreter exits, before
#: ``multiprocessing`` would wait for them (registered after it, so run before it).
_live: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()


def _kill_leftover_workers() -> None:
    for pool in list(_live):
        pool._kill_all()


atexit.register(_kill_leftover_workers)


def _serve(connection: Connection) -> None:
    """A worker's loop (in the child): run each fire it is sent, until told to stop.

    The exception object is dropped: it may not pickle back. The child judges lateness
    and times the run by the host's clock: a scheduler's injected clock (a test's
    ``ManualClock``) lives in the parent and cannot follow. Ctrl+C is the parent's to
    handle (its shutdown decides what happens to running jobs), so the child ignores it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    clock = SystemClock()

    def started(_fire: Fire, at: datetime) -> None:
        connection.send(("started", at))

    while True:
        try:
            fire = connection.recv()
        except EOFError:
            return
        if fire is None:
            return
        try:
            func = import_ref(fire.func_ref)
        except Exception as exc:
            finished = failure(fire, None, clock.now(), exc)
        else:
            finished = run_fire(fire, func, clock, on_started=started)
        connection.send(("finished", Finished(finished.fire, finished.result)))
