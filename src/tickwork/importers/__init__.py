"""Importing jobs from other schedulers (APScheduler 3's SQLAlchemy job store)."""

from tickwork.importers.apscheduler import convert_row, import_apscheduler
from tickwork.importers.apscheduler_store import DEFAULT_TABLE
from tickwork.importers.report import ConvertedJob, FailedJob, ImportReport

__all__ = [
    "DEFAULT_TABLE",
    "ConvertedJob",
    "FailedJob",
    "ImportReport",
    "convert_row",
    "import_apscheduler",
]
