"""The web dashboard: static pages served under the REST API's prefix, at ``<prefix>/ui/``.

The dashboard is plain HTML, CSS and ES modules shipped as package data; it holds no
server-side logic and reads and changes everything through the REST API (and its auth), so
it needs no build step and shows nothing the API would not.
"""

from __future__ import annotations

from tickwork.dashboard.install import DASHBOARD_PATH, install_dashboard

__all__ = ["DASHBOARD_PATH", "install_dashboard"]
