"""``tickwork pause|resume`` (the whole cluster) and ``tickwork nodes``."""

from __future__ import annotations

import click

from tickwork.cli.base import (
    TickworkGroup,
    echo_json,
    echo_table,
    json_option,
    open_scheduler,
    when,
    with_store_options,
)
from tickwork.node import Node


@click.command("pause")
@with_store_options
@json_option
def pause(as_json: bool) -> None:
    """Pause the whole cluster: no node runs anything until resumed."""
    with open_scheduler() as scheduler:
        state = scheduler.pause()
        echo_json(state.to_dict()) if as_json else click.echo("scheduler paused (every node)")


@click.command("resume")
@with_store_options
@json_option
def resume(as_json: bool) -> None:
    """Lift the global pause; each node keeps its own pause state."""
    with open_scheduler() as scheduler:
        state = scheduler.resume()
        echo_json(state.to_dict()) if as_json else click.echo("scheduler resumed")


@click.group(cls=TickworkGroup)
def nodes() -> None:
    """Scheduler processes sharing the database."""


@nodes.command("list")
@with_store_options
@json_option
@click.option("--all", "include_stopped", is_flag=True, help="Include stopped and dead nodes.")
def list_nodes(as_json: bool, include_stopped: bool) -> None:
    """Nodes with their state, pause and last heartbeat."""
    with open_scheduler() as scheduler:
        found = scheduler.get_nodes(include_stopped=include_stopped)
        if as_json:
            echo_json([node.to_dict() for node in found])
            return
        rows = [
            (
                node.id,
                node.host,
                str(node.pid),
                node.state.value,
                "yes" if node.is_paused else "no",
                when(node.heartbeat_at, scheduler.timezone),
            )
            for node in found
        ]
        echo_table(("ID", "HOST", "PID", "STATE", "PAUSED", "HEARTBEAT"), rows, "no nodes")


@nodes.command("pause")
@with_store_options
@json_option
@click.argument("node_id", metavar="NODE")
def pause_node(as_json: bool, node_id: str) -> None:
    """Pause one node; the others keep running jobs."""
    with open_scheduler() as scheduler:
        _report(scheduler.pause_node(node_id), as_json)


@nodes.command("resume")
@with_store_options
@json_option
@click.argument("node_id", metavar="NODE")
def resume_node(as_json: bool, node_id: str) -> None:
    """Lift one node's own pause."""
    with open_scheduler() as scheduler:
        _report(scheduler.resume_node(node_id), as_json)


def _report(node: Node, as_json: bool) -> None:
    if as_json:
        echo_json(node.to_dict())
    else:
        click.echo(f"node {node.id} {'paused' if node.is_paused else 'resumed'}")


__all__ = ["nodes", "pause", "resume"]
