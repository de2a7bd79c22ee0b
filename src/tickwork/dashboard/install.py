"""Serving the dashboard's files from a Flask app.

The files are few and small, so they are read once at install time and served from memory
with an ETag: no filesystem lookups per request, no path from the URL ever reaches the
filesystem, and a zipped install works as well as an unpacked one. The pages themselves are
public (they contain no data); every piece of data comes from the API, which checks auth.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources

from flask import Flask, Response, abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from tickwork.exceptions import ConfigurationError

#: Where the dashboard sits below the API prefix.
DASHBOARD_PATH = "/ui"

_INDEX = "index.html"

#: The pages load only their own scripts and styles and talk only to their own origin.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    """One file of the dashboard, ready to send."""

    body: bytes
    mimetype: str
    etag: str


def load_assets() -> dict[str, Asset]:
    """Read every file of the package's ``static`` folder."""
    assets = {}
    for entry in resources.files(__package__ or "tickwork.dashboard").joinpath("static").iterdir():
        if not entry.is_file():
            continue
        body = entry.read_bytes()
        suffix = "." + entry.name.rpartition(".")[2]
        mimetype = _TYPES.get(suffix) or mimetypes.guess_type(entry.name)[0]
        assets[entry.name] = Asset(
            body, mimetype or "application/octet-stream", hashlib.sha256(body).hexdigest()[:20]
        )
    if _INDEX not in assets:
        raise ConfigurationError("the tickwork dashboard's files are missing from the package")
    return assets


def install_dashboard(app: Flask, prefix: str, *, endpoint_prefix: str = "") -> None:
    """Serve the dashboard at ``<prefix>/ui/`` (``<prefix>/ui`` redirects there).

    ``prefix`` is the REST API's prefix: the pages find the API one level up from their own
    URL, so they also work behind a proxy that mounts the app below a path.

    :param endpoint_prefix: put before the endpoint names ``dashboard``,
        ``dashboard_asset`` and ``dashboard_redirect``, as for the API's endpoints.
    :raises ConfigurationError: for a prefix that is not a path like ``/scheduler``.
    """
    if not prefix.startswith("/") or not prefix.strip("/"):
        raise ConfigurationError(
            f"the dashboard prefix must be a path like '/scheduler', got {prefix!r}"
        )
    base = prefix.rstrip("/") + DASHBOARD_PATH
    assets = load_assets()

    def send(name: str) -> BaseResponse:
        asset = assets.get(name)
        if asset is None:
            abort(404)
        response = Response(asset.body, mimetype=asset.mimetype)
        response.set_etag(asset.etag)
        # Revalidate every time: a new version of tickwork must not meet cached old scripts.
        response.cache_control.no_cache = True
        response.headers.update(_SECURITY_HEADERS)
        return response.make_conditional(request)

    def index() -> BaseResponse:
        return send(_INDEX)

    def to_index() -> BaseResponse:
        target = request.script_root + request.path + "/"
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target, 308)

    app.add_url_rule(base, endpoint_prefix + "dashboard_redirect", to_index, methods=["GET"])
    app.add_url_rule(base + "/", endpoint_prefix + "dashboard", index, methods=["GET"])
    app.add_url_rule(
        base + "/<path:name>", endpoint_prefix + "dashboard_asset", send, methods=["GET"]
    )
