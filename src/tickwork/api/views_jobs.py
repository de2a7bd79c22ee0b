"""Job routes of Flask-APScheduler: same paths, codes and job JSON; stricter input."""

from __future__ import annotations

from itertools import islice

from flask import Response, request

from tickwork.api.auth import requester
from tickwork.api.context import ApiContext
from tickwork.api.errors import json_response
from tickwork.api.params import MAX_PAGE, json_body, next_link, query_int, query_text
from tickwork.exceptions import JobLookupError
from tickwork.job import Job
from tickwork.jobbuild import job_changes, new_job_arguments, pause_arguments, run_arguments
from tickwork.jobjson import job_to_json


def _load(ctx: ApiContext, job_id: str) -> Job:
    job = ctx.scheduler.get_job(job_id)
    if job is None:
        raise JobLookupError(job_id)
    return job


def add_job(ctx: ApiContext) -> Response:
    """Add a job; 409 when the id is taken (unless ``replace_existing``)."""
    arguments = new_job_arguments(json_body(), ctx.scheduler.registry)
    job = ctx.scheduler.add_job(**arguments)
    return json_response(job_to_json(job))


def get_job(ctx: ApiContext, job_id: str) -> Response:
    return json_response(job_to_json(_load(ctx, job_id)))


def get_jobs(ctx: ApiContext) -> Response:
    """All jobs by next run time (Flask-APScheduler), or a page by id with ``limit``/``after``.

    The default stays a plain list so Flask-APScheduler clients keep working; a page is a
    plain list too, with a ``Link: rel="next"`` header while more jobs follow.
    """
    if "limit" not in request.args and "after" not in request.args:
        return json_response([job_to_json(job, listing=True) for job in ctx.scheduler.get_jobs()])
    limit = query_int("limit", default=100, low=1, high=MAX_PAGE)
    assert limit is not None
    after = query_text("after")
    page = list(islice(ctx.scheduler.iter_jobs(page_size=limit, after=after), limit))
    headers = next_link(after=page[-1].id, limit=limit) if len(page) == limit else None
    return json_response([job_to_json(job, listing=True) for job in page], headers=headers)


def delete_job(ctx: ApiContext, job_id: str) -> Response:
    ctx.scheduler.remove_job(job_id)
    return Response(status=204)


def update_job(ctx: ApiContext, job_id: str) -> Response:
    """Change a job; trigger fields reschedule it. ``{}`` changes nothing and returns it."""
    body = json_body()
    jobstore = body.pop("jobstore", None)
    changes = job_changes(body, job_id, lambda: _load(ctx, job_id), ctx.scheduler.registry)
    if not changes:
        return get_job(ctx, job_id)
    job = ctx.scheduler.modify_job(job_id, jobstore, **changes)
    return json_response(job_to_json(job))


def pause_job(ctx: ApiContext, job_id: str) -> Response:
    """Pause; an optional body ``{"note": "..."}`` says why, kept with who paused and when
    until the job is resumed."""
    arguments = pause_arguments(json_body(required=False))
    job = ctx.scheduler.pause_job(job_id, **arguments, requested_by=requester())
    return json_response(job_to_json(job))


def resume_job(ctx: ApiContext, job_id: str) -> Response:
    """Resume from now; 409 when the trigger has no fire time left (the job is kept,
    where Flask-APScheduler would delete it and answer ``null``)."""
    return json_response(job_to_json(ctx.scheduler.resume_job(job_id)))


def run_job(ctx: ApiContext, job_id: str) -> Response:
    """Run now through the executor (or inline when stopped); recorded in history with
    who asked. An optional body ``{"args": [...], "kwargs": {...}}`` gives this run
    arguments of its own."""
    arguments = run_arguments(
        json_body(required=False), lambda: _load(ctx, job_id), ctx.scheduler.registry
    )
    job = ctx.scheduler.run_job(job_id, **arguments, requested_by=requester())
    return json_response(job_to_json(job))
