"""A job module as applications write them, holding everything a reference must not reach:
imported modules and functions, a global a job reads, a module-level instance, private and
borrowed names, and a module ``__getattr__`` that would hand out ``os.system`` for any name.
"""

from __future__ import annotations

import builtins
import functools
import logging
import os
import subprocess
import sys
from collections import OrderedDict
from os import system
from os.path import join
from time import sleep
from typing import Any

WEBHOOK_URL = "https://hooks.example/tickwork"
fired: list[str] = []


def notify(message: str = "") -> str:
    """The legitimate job: it reads the module global an attacker would like to rebind."""
    fired.append(message)
    return f"{WEBHOOK_URL} {message}"


def _private() -> str:
    return "private"


class Jobs:
    @staticmethod
    def nightly() -> str:
        return "nightly"

    @classmethod
    def hourly(cls) -> str:
        return cls.__name__

    def method(self) -> str:
        return "method"

    class Inner:
        @staticmethod
        def deep() -> str:
            return "deep"


class Child(Jobs):
    """Inherits ``nightly``: ``Child.nightly`` is really ``Jobs.nightly``."""


class _Client:
    def send(self, text: str) -> str:
        return text

    def __call__(self) -> str:
        return "called"


class Report:
    """A class whose own ``__init__`` is the job: schedulable."""

    def __init__(self, title: str = "") -> None:
        self.title = title


class Shell(subprocess.Popen[bytes]):
    """Defined here, but calling it runs ``Popen.__init__``: any command."""


class LogFile(logging.FileHandler):
    """Defined here, but calling it runs ``FileHandler.__init__``: opens (and with ``"w"``
    empties) any file."""


client = _Client()
alias = notify
Borrowed = OrderedDict
partial_job = functools.partial(notify, "partial")
ROUTES = {"notify": notify}
lam = lambda: "lambda"  # noqa: E731


def __getattr__(name: str) -> Any:
    return os.system


#: Names imported on purpose; references to them must be refused.
BORROWED = (builtins, os, subprocess, sys, system, join, sleep)
