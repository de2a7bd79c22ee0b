"""The standalone service: ``tickwork serve`` in library form.

A scheduler node, the REST API, the dashboard and Prometheus metrics on one WSGI app,
served by waitress with a graceful shutdown. Configured by a TOML file
(:func:`load_config`) and/or an app module (``--app``); both are read by
:mod:`tickwork.config` and :mod:`tickwork.loading`, which the other commands use without
importing Flask, and are re-exported here.
"""

from tickwork.config import ServiceConfig, load_config, parse_config
from tickwork.loading import LoadedApp, load_app, open_scheduler
from tickwork.server.app import Service, add_configured_jobs, build_service
from tickwork.server.serving import serve

__all__ = [
    "LoadedApp",
    "Service",
    "ServiceConfig",
    "add_configured_jobs",
    "build_service",
    "load_app",
    "load_config",
    "open_scheduler",
    "parse_config",
    "serve",
]
