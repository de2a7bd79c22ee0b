"""The command line: ``tickwork`` (entry point :func:`main`) and ``flask tickwork``.

``flask tickwork`` is :data:`tickwork.cli.flask_group.flask_group`, found by Flask through
the ``flask.commands`` entry point; importing this package does not import Flask.
"""

from tickwork.cli.main import main

__all__ = ["main"]
