"""The command line: ``tickwork`` (entry point :func:`main`) and ``flask tickwork``."""

from tickwork.cli.main import flask_group, main

__all__ = ["flask_group", "main"]
