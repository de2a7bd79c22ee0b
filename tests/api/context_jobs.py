"""A job that only works inside a Flask app context."""

from __future__ import annotations

from flask import current_app


def app_name() -> str:
    return current_app.name
