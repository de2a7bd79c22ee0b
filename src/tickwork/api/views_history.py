"""Routes beyond both specs: the nodes of the cluster and the run history."""

from __future__ import annotations

from flask import Response, request

from tickwork.api.context import ApiContext
from tickwork.api.errors import json_response
from tickwork.api.params import (
    MAX_PAGE,
    json_body,
    next_link,
    query_bool,
    query_int,
    query_text,
    strict_fields,
)
from tickwork.exceptions import JobLookupError, RequestError
from tickwork.jobjson import run_to_json
from tickwork.run import Outcome

_OUTCOMES = [outcome.value for outcome in Outcome]


def get_nodes(ctx: ApiContext) -> Response:
    """Live nodes; ``?include_stopped=true`` adds stopped and dead ones."""
    nodes = ctx.scheduler.get_nodes(include_stopped=query_bool("include_stopped"))
    return json_response([node.to_dict() for node in nodes])


def get_node(ctx: ApiContext, node_id: str) -> Response:
    return json_response(ctx.scheduler.get_node(node_id).to_dict())


def update_node(ctx: ApiContext, node_id: str) -> Response:
    """Pause or resume one node, with the scheduler service spec's strict PATCH rules."""
    changes = strict_fields(json_body(), {"is_paused": bool})
    if changes["is_paused"]:
        node = ctx.scheduler.pause_node(node_id)
    else:
        node = ctx.scheduler.resume_node(node_id)
    return json_response(node.to_dict(), 201, {"Location": request.path})


def get_runs(ctx: ApiContext) -> Response:
    """Run history, newest first, filtered by ``job_id``, ``outcome``, ``node_id``."""
    return _runs(ctx, query_text("job_id"))


def get_job_runs(ctx: ApiContext, job_id: str) -> Response:
    """History of one existing job (removed jobs' runs stay in ``/runs?job_id=``)."""
    if ctx.scheduler.get_job(job_id) is None:
        raise JobLookupError(job_id)
    return _runs(ctx, job_id)


def _runs(ctx: ApiContext, job_id: str | None) -> Response:
    """A page of runs; ``Link: rel="next"`` carries the ``before`` cursor of the next one."""
    limit = query_int("limit", default=100, low=1, high=MAX_PAGE)
    assert limit is not None
    before = query_int("before", default=None, low=1, high=2**63 - 1)
    outcome = query_text("outcome")
    if outcome is not None and outcome not in _OUTCOMES:
        raise RequestError(f"outcome must be one of {', '.join(_OUTCOMES)}", field="outcome")
    runs = ctx.scheduler.get_runs(
        job_id, outcome=outcome, node_id=query_text("node_id"), before=before, limit=limit
    )
    headers = next_link(before=runs[-1].id, limit=limit) if len(runs) == limit else None
    return json_response([run_to_json(run) for run in runs], headers=headers)
