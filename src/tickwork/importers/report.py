"""What an import did: the jobs it converted, the ones it could not, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tickwork.job import Job


@dataclass(frozen=True, slots=True)
class ConvertedJob:
    """A source job turned into a tickwork job.

    :param job: the job as it is (or would be) stored.
    :param warnings: conversions that changed something a user may care about, such as an
        executor name mapped to ``"default"``.
    """

    job: Job
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self.job.to_dict(), "warnings": list(self.warnings)}


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A source job that was not imported, and why (one sentence)."""

    id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of one import.

    :param source: the source URL, password hidden.
    :param table: the APScheduler table read.
    :param dry_run: nothing was written when true.
    :param added: the converted jobs were written to tickwork's store. False on a dry run,
        and when ``all_or_nothing`` held them back because some jobs failed.
    :param converted: jobs converted (and added when ``added``), in source id order.
    :param failed: jobs not converted, in source id order.
    """

    source: str
    table: str
    dry_run: bool
    added: bool
    converted: tuple[ConvertedJob, ...]
    failed: tuple[FailedJob, ...]

    @property
    def complete(self) -> bool:
        """Every source job was converted."""
        return not self.failed

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """``(job id, warning)`` for every warning, in job order."""
        return [(item.job.id, warning) for item in self.converted for warning in item.warnings]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data (what ``--json`` prints)."""
        return {
            "source": self.source,
            "table": self.table,
            "dry_run": self.dry_run,
            "added": self.added,
            "converted": [item.to_dict() for item in self.converted],
            "failed": [item.to_dict() for item in self.failed],
        }
