"""Assembling the service: a scheduler, the REST API, the dashboard and metrics on one app.

The scheduler comes from :func:`tickwork.loading.open_scheduler`, shared with the other
commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, Response, redirect

from tickwork.api import ApiAuth, ApiContext, HTTPBasicAuth, install_api
from tickwork.config import ServiceConfig
from tickwork.dashboard import DASHBOARD_PATH, install_dashboard
from tickwork.exceptions import ConfigurationError
from tickwork.flask import APScheduler
from tickwork.jobbuild import config_job_specs
from tickwork.loading import LoadedApp
from tickwork.metrics import SchedulerMetrics, install_metrics
from tickwork.scheduler import Scheduler
from tickwork.server.auth import BasicUsers

METRICS_PATH = "/metrics"


def add_configured_jobs(scheduler: Scheduler, config: ServiceConfig) -> int:
    """Add the file's ``[[jobs]]`` in one transaction, replacing jobs with the same ids.

    As with ``SCHEDULER_JOBS``, the file states what these jobs are at every start.
    """
    specs = config_job_specs(config.jobs, "jobs")
    if specs:
        scheduler.add_jobs(specs, replace_existing=True)
    return len(specs)


@dataclass(frozen=True)
class Service:
    """A WSGI app serving one scheduler, and where things are on it."""

    scheduler: Scheduler
    app: Flask
    auth: ApiAuth
    api_prefix: str
    metrics: SchedulerMetrics | None
    paths: Sequence[tuple[str, str]]
    """(label, path) of what is served, for the start-up message."""


def build_service(
    config: ServiceConfig, scheduler: Scheduler, loaded: LoadedApp | None = None
) -> Service:
    """Put the API, dashboard and metrics on a new Flask app (or the one from ``--app``)."""
    extension: APScheduler | None = None
    if loaded is not None and loaded.flask_app is not None:
        app = loaded.flask_app
        found = app.extensions.get("tickwork")  # set by APScheduler.init_app
        extension = found if isinstance(found, APScheduler) else None
    else:
        app = Flask("tickwork.server")
    if extension is not None and extension.api_enabled:
        if config.tokens or config.basic_users:
            raise ConfigurationError(
                "[auth] cannot be used with an app that serves the API itself; set "
                "SCHEDULER_AUTH or SCHEDULER_API_TOKENS in the app's config"
            )
        prefix, endpoint_prefix = extension.api_prefix, extension.endpoint_prefix
        auth = ApiAuth.build(
            extension.auth,
            lambda: scheduler.auth_callback,
            app.config.get("SCHEDULER_API_TOKENS") or (),
        )
    else:
        prefix, endpoint_prefix = config.api_prefix, "scheduler."
        auth = _config_auth(config, scheduler)
        context = ApiContext(scheduler, auth=auth, allowed_origins=config.allowed_origins)
        install_api(app, context, prefix=prefix, endpoint_prefix=endpoint_prefix)
    prefix = prefix.rstrip("/")
    paths = [("API", prefix)]
    if endpoint_prefix + "dashboard" not in app.view_functions:
        install_dashboard(app, prefix, endpoint_prefix=endpoint_prefix)
    paths.append(("dashboard", prefix + DASHBOARD_PATH + "/"))
    metrics = None
    if config.metrics and "tickwork_metrics" not in app.view_functions:
        metrics = SchedulerMetrics(scheduler)
        guarded = auth.enabled and not config.metrics_public
        install_metrics(
            app,
            metrics,
            path=METRICS_PATH,
            allows=auth.allows if guarded else None,
            challenge=auth.challenge(),
        )
        paths.append(("metrics", METRICS_PATH))
    if "/" not in {rule.rule for rule in app.url_map.iter_rules()}:
        home = prefix + DASHBOARD_PATH + "/"
        app.add_url_rule("/", "tickwork_home", lambda: _redirect(home))
    return Service(scheduler, app, auth, prefix, metrics, tuple(paths))


def _redirect(location: str) -> Response:
    return redirect(location)  # type: ignore[return-value]


def _config_auth(config: ServiceConfig, scheduler: Scheduler) -> ApiAuth:
    """Tokens and Basic users from the file; else the app's ``@scheduler.authenticate``."""
    if config.basic_users:
        check = BasicUsers(config.basic_users)
        return ApiAuth.build(HTTPBasicAuth(), lambda: check, config.all_tokens())
    scheme = HTTPBasicAuth() if scheduler.auth_callback is not None else None
    return ApiAuth.build(scheme, lambda: scheduler.auth_callback, config.all_tokens())
