"""Serving a :class:`~tickwork.server.app.Service` on waitress until SIGTERM or SIGINT.

Shutdown order matters: first stop taking requests (waitress finishes the ones in
progress), then shut the scheduler down with ``wait=True`` so running jobs finish and are
recorded and the node is marked stopped, then release the database. Running jobs get the
engine's ``shutdown_grace`` seconds; a second signal cuts the wait short. Runs still going
then are recorded ``interrupted`` and the process must exit without waiting for them.
"""

from __future__ import annotations

import _thread
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import waitress

from tickwork.api import check_exposure
from tickwork.exceptions import ConfigurationError
from tickwork.server.app import Service

logger = logging.getLogger("tickwork.server")

#: Exit statuses of :func:`serve` besides 0 (a clean stop).
EXIT_INTERRUPTED = 3  # runs were still going when the grace period ended (or a 2nd signal)
EXIT_UNHEALTHY = 4  # an internal thread could not go on; a supervisor should restart us


class _StopServing(SystemExit):
    """Raised in the main thread by the signal handler; waitress's loop ends on it."""


def serve(
    service: Service,
    *,
    host: str,
    port: int,
    threads: int = 8,
    allow_insecure: bool = False,
    announce: Callable[[str], None] = print,
) -> int:
    """Start the scheduler, serve until SIGTERM/SIGINT, then shut down; return the exit
    status (0, :data:`EXIT_INTERRUPTED` or :data:`EXIT_UNHEALTHY`).

    The node stopping because it became unhealthy counts as a signal. With a non-zero
    status, job threads may still be running: the caller must end the process with
    :func:`os._exit`, as ``tickwork serve`` does.

    :param port: 0 picks a free port; the start-up message says which.
    :param announce: receives one line per URL served (the first is the API's).
    :raises ConfigurationError: the API would be open beyond loopback without auth (unless
        ``allow_insecure``), or the address cannot be bound.
    """
    try:
        check_exposure(
            host, auth_enabled=service.auth.enabled, refuse=True, allow_insecure=allow_insecure
        )
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"{exc}. For tickwork serve: set [auth] tokens or basic_users in the config file "
            "or TICKWORK_API_TOKENS, or pass --allow-insecure"
        ) from None
    try:
        server: Any = waitress.create_server(
            service.app, host=host, port=port, threads=threads, ident="tickwork"
        )
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    scheduler = service.scheduler
    engine = scheduler.engine
    # a thread that cannot go on stops the node as a SIGTERM would (in the main thread)
    engine.health.observe(lambda _reason: _thread.interrupt_main(signal.SIGTERM))
    try:
        if not scheduler.running:
            scheduler.start()
        base = _base_url(server, host)
        for label, path in service.paths:
            announce(f"tickwork {label}: {base}{path}")
        announce(f"tickwork node {scheduler.node_id} started; SIGTERM or Ctrl+C stops it")
        _run_until_signal(server, engine.force_stop)
    finally:
        server.close()
        logger.info("stopped accepting requests; shutting the scheduler down")
        if scheduler.running:
            scheduler.shutdown(wait=True)
        scheduler.close()
    if not engine.health.healthy:
        logger.critical("exiting because the node is unhealthy: %s", engine.health.reason)
        return EXIT_UNHEALTHY
    return EXIT_INTERRUPTED if engine.interrupted else 0


def _run_until_signal(server: Any, force_stop: Callable[[], None]) -> None:
    """Run waitress in this (the main) thread until the first SIGTERM or SIGINT.

    The handler stays installed afterwards: a second signal does not interrupt the
    shutdown half-way (which would leave it unrecorded) but calls ``force_stop``, which
    ends the wait for running jobs at once and records them ``interrupted``.
    """
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        name = signal.Signals(signum).name
        if stopping:
            logger.warning("received %s again; interrupting running jobs now", name)
            force_stop()
            return
        stopping = True
        logger.info("received %s, shutting down", name)
        raise _StopServing(0)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        server.run()  # waitress ends its loop on SystemExit (and so on _StopServing)
    except _StopServing:
        pass  # the signal came before or after waitress's own handler
    finally:
        stopping = True


def _base_url(server: Any, host: str) -> str:
    """``http://host:port`` of the bound socket (the real port when 0 was asked)."""
    listen = getattr(server, "effective_listen", None)
    if listen:
        bound_host, bound_port = listen[0][0], listen[0][1]
    else:
        bound_host, bound_port = server.effective_host, server.effective_port
    shown = host if host not in ("", "0.0.0.0", "::") else bound_host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{bound_port}"
