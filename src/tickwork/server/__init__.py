"""The standalone service: ``tickwork serve`` in library form.

A scheduler node, the REST API, the dashboard and Prometheus metrics on one WSGI app,
served by waitress with a graceful shutdown. Configured by a TOML file
(:func:`load_config`) and/or an app module (``--app``).
"""

from tickwork.server.app import Service, add_configured_jobs, build_service, open_scheduler
from tickwork.server.config import ServiceConfig, load_config, parse_config
from tickwork.server.loading import LoadedApp, load_app
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
