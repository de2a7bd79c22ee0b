"""``tickwork serve``: a scheduler node with the REST API, dashboard and metrics."""

from __future__ import annotations

import logging
import os
import sys

import click

from tickwork.cli.base import open_configured, with_store_options


@click.command()
@with_store_options
@click.option("--host", envvar="TICKWORK_HOST", help="Address to listen on [default: 127.0.0.1].")
@click.option(
    "--port",
    envvar="TICKWORK_PORT",
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one [default: 5000].",
)
@click.option(
    "--allow-insecure",
    is_flag=True,
    help="Serve beyond loopback without authentication (e.g. behind an authenticating proxy).",
)
def serve(host: str | None, port: int | None, allow_insecure: bool) -> None:
    """Run a scheduler node and serve the REST API, dashboard and /metrics.

    Prints the URLs once listening. On SIGTERM or SIGINT it stops taking requests, lets
    running jobs finish, marks the node stopped and exits 0. Jobs still running after
    [engine] shutdown_grace seconds (or at a second signal) are recorded interrupted and
    the exit status is 3; a node that became unhealthy exits with 4.
    """
    from tickwork.server import add_configured_jobs, build_service
    from tickwork.server import serve as serve_service

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with open_configured() as (config, scheduler, loaded):
        add_configured_jobs(scheduler, config)
        service = build_service(config, scheduler, loaded)
        status = serve_service(
            service,
            host=host or config.host or "127.0.0.1",
            port=port if port is not None else (config.port if config.port is not None else 5000),
            threads=config.threads,
            allow_insecure=allow_insecure or config.allow_insecure,
            announce=click.echo,
        )
    if status:
        # job threads may still be running: do not wait for them on the way out
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
