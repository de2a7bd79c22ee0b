"""Start marks from process-pool workers, so a run's ``started_at`` is known while it runs.

Each worker connects once to a Unix socket of the parent (in a private directory) and
sends one line per call it starts. A connection per worker, not a shared
``multiprocessing`` queue: a worker killed mid-send (``os._exit``, the OOM killer) would
leave a shared queue's lock held and stall every other worker. Marks are best effort: a
worker never blocks on them, and the run's outcome brings ``started_at`` anyway.
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import shutil
import socket
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from tickwork.executors.base import StartedCallback
from tickwork.store.base import Fire
from tickwork.supervision import Health, supervised_thread

logger = logging.getLogger(__name__)

_Key = tuple[str, str]  # job id and scheduled time (ISO), as a worker reports them


def _key(job_id: str, scheduled_time: datetime) -> _Key:
    return job_id, scheduled_time.isoformat()


class StartReports:
    """The parent's end: a supervised thread that reads every worker's start marks."""

    def __init__(self, on_started: StartedCallback, health: Health) -> None:
        self._on_started = on_started
        self._fires: dict[_Key, Fire] = {}
        self._directory = Path(tempfile.mkdtemp(prefix="tickwork-"))  # mode 0700
        self.address = str(self._directory / "starts")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.address)
        self._server.listen()
        self._server.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ)
        self._pending: dict[socket.socket, bytes] = {}
        self._closing = threading.Event()
        self._thread = supervised_thread("tickwork-process-starts", self._serve, health)
        self._thread.start()

    def expect(self, fire: Fire) -> None:
        self._fires[_key(fire.job_id, fire.scheduled_time)] = fire

    def forget(self, fire: Fire) -> None:
        self._fires.pop(_key(fire.job_id, fire.scheduled_time), None)

    def close(self) -> None:
        self._closing.set()
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    def _serve(self) -> None:
        while not self._closing.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                if key.fileobj is self._server:
                    connection, _ = self._server.accept()
                    connection.setblocking(False)
                    self._selector.register(connection, selectors.EVENT_READ)
                    self._pending[connection] = b""
                else:
                    assert isinstance(key.fileobj, socket.socket)
                    self._read(key.fileobj)

    def _read(self, connection: socket.socket) -> None:
        try:
            data = connection.recv(65536)
        except OSError:
            data = b""
        if not data:  # the worker ended
            self._selector.unregister(connection)
            self._pending.pop(connection, None)
            connection.close()
            return
        *lines, rest = (self._pending[connection] + data).split(b"\n")
        self._pending[connection] = rest
        for line in lines:
            try:
                job_id, scheduled, started = json.loads(line)
                at = datetime.fromisoformat(started)
            except (ValueError, TypeError):
                continue  # the tail of a send cut short by a full socket
            fire = self._fires.get((job_id, scheduled))
            if fire is not None:
                self._on_started(fire, at)


#: In a worker: its connection to the parent (set once by :func:`connect`).
_worker: dict[str, socket.socket] = {}


def connect(address: str) -> None:
    """Pool initializer: connect this worker to the parent's :class:`StartReports`."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(address)
    except OSError as exc:
        logger.warning("cannot report run starts to the scheduler: %s", exc)
        connection.close()
        return
    connection.setblocking(False)
    _worker["connection"] = connection


def report(fire: Fire, started: datetime) -> None:
    """Tell the parent (in the worker) that ``fire``'s call starts now; never blocks."""
    connection = _worker.get("connection")
    if connection is None:
        return
    line = json.dumps([*_key(fire.job_id, fire.scheduled_time), started.isoformat()])
    with contextlib.suppress(OSError):  # a full or closed socket: the outcome tells later
        connection.send(line.encode() + b"\n")
