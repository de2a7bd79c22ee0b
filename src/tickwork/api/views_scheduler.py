"""Scheduler routes: Flask-APScheduler's info and actions, and the scheduler service spec."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from tickwork.api.context import ApiContext
from tickwork.api.errors import json_response
from tickwork.api.params import json_body, strict_fields
from tickwork.exceptions import RequestError

_STATES = {0: "stopped", 1: "running", 2: "paused"}


def _info(ctx: ApiContext) -> dict[str, Any]:
    scheduler = ctx.scheduler
    row = scheduler.get_scheduler_state()
    return {
        "current_host": ctx.host_name,
        "allowed_hosts": list(ctx.allowed_hosts),
        "running": scheduler.running,
        "is_paused": row.is_paused,
        "updated_at": row.updated_at.isoformat(),
        "node_id": scheduler.node_id,
        "state": _STATES[scheduler.state],
        "healthy": scheduler.healthy,
        "health_reason": scheduler.health_reason,
    }


def get_scheduler_info(ctx: ApiContext) -> Response:
    """Flask-APScheduler's fields plus the shared scheduler row."""
    return json_response(_info(ctx))


def update_scheduler(ctx: ApiContext) -> Response:
    """PATCH of the scheduler service spec: 201, ``Location``, and the updated body."""
    changes = strict_fields(json_body(), {"is_paused": bool})
    if changes["is_paused"]:
        ctx.scheduler.pause()
    else:
        ctx.scheduler.resume_cluster()
    return json_response(_info(ctx), 201, {"Location": request.path})


def pause_scheduler(ctx: ApiContext) -> Response:
    """Pause the whole cluster (the scheduler row's ``is_paused``)."""
    ctx.scheduler.pause()
    return Response(status=204)


def resume_scheduler(ctx: ApiContext) -> Response:
    ctx.scheduler.resume_cluster()
    return Response(status=204)


def start_scheduler(ctx: ApiContext) -> Response:
    """Start this node; 400 when it is already running."""
    ctx.start_scheduler()
    return Response(status=204)


def shutdown_scheduler(ctx: ApiContext) -> Response:
    """Stop this node; ``{"wait": false}`` does not wait for running jobs. 400 if stopped."""
    body = json_body(required=False)
    unknown = sorted(set(body) - {"wait"})
    if unknown:
        raise RequestError(f"unexpected field(s): {', '.join(unknown)}", field=unknown[0])
    wait = body.get("wait", True)
    if not isinstance(wait, bool):
        raise RequestError("wait must be a boolean", field="wait")
    ctx.scheduler.shutdown(wait=wait)
    return Response(status=204)
