"""Prometheus metrics for one scheduler: fires, outcomes, lateness, durations, claims.

Counters and histograms are fed as things happen, from the scheduler's events and the
engine's claim hook, so they describe what *this node* did. Gauges (jobs, running nodes,
pause) describe the whole cluster and are read from the store when scraped, with a few
cheap queries, so any node answers the same.

Every :class:`SchedulerMetrics` has its own :class:`~prometheus_client.CollectorRegistry`
instead of the process-global one, so several schedulers (tests, several apps in one
process) never clash over metric names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from tickwork.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_LOST,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from tickwork.exceptions import RunCancelledError, RunTimedOutError, TickworkError
from tickwork.run import Outcome
from tickwork.scheduler import STATE_PAUSED, Scheduler

logger = logging.getLogger(__name__)

#: Outcome label of each event that ends a fire. A fire refused by ``max_instances`` is
#: stored as ``missed``, so it is counted as one.
_OUTCOMES = {
    EVENT_JOB_EXECUTED: Outcome.SUCCEEDED.value,
    EVENT_JOB_ERROR: Outcome.FAILED.value,
    EVENT_JOB_MISSED: Outcome.MISSED.value,
    EVENT_JOB_MAX_INSTANCES: Outcome.MISSED.value,
    EVENT_JOB_LOST: Outcome.LOST.value,
}
_EVENTS = EVENT_JOB_SUBMITTED | sum(_OUTCOMES)
#: Labels exported from the start; a timed-out run is an error event (see :func:`_outcome`).
_LABELS = sorted({*_OUTCOMES.values(), Outcome.TIMED_OUT.value, Outcome.CANCELLED.value})

#: Seconds; lateness is usually milliseconds, durations anything from there to hours.
LATENESS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60)
DURATION_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
CLAIM_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class SchedulerMetrics:
    """The metrics of one scheduler, in a registry of their own.

    :param scheduler: the scheduler to observe; a listener and a claim observer are added.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.registry = CollectorRegistry(auto_describe=True)
        self.fires = Counter(
            "tickwork_fires_submitted",
            "Fires this node handed to an executor (scheduled and run-now).",
            registry=self.registry,
        )
        self.outcomes = Counter(
            "tickwork_runs_finished",
            "Runs this node saw end, by outcome (succeeded, failed, missed, lost, timed_out, "
            "cancelled).",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in _LABELS:
            self.outcomes.labels(outcome)  # export zeros, so rate() works from the start
        self.lateness = Histogram(
            "tickwork_run_lateness_seconds",
            "Seconds between a run's scheduled time and the start of its call.",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.duration = Histogram(
            "tickwork_run_duration_seconds",
            "Seconds a job's call took, successful or not.",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.claims = Histogram(
            "tickwork_claim_duration_seconds",
            "Seconds each claim transaction took (locking due jobs and recording their runs).",
            buckets=CLAIM_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(scheduler))
        scheduler.add_listener(self._on_event, _EVENTS)
        scheduler.engine.add_claim_observer(self._on_claim)

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    def _on_event(self, event: SchedulerEvent) -> None:
        if isinstance(event, JobSubmissionEvent) and event.code == EVENT_JOB_SUBMITTED:
            self.fires.inc()
            return
        outcome = _outcome(event)
        if outcome is None:
            return
        self.outcomes.labels(outcome).inc()
        if not isinstance(event, JobExecutionEvent) or event.started_at is None:
            return
        if event.scheduled_run_time is not None:
            lateness = (event.started_at - event.scheduled_run_time).total_seconds()
            self.lateness.observe(max(lateness, 0.0))
        if event.finished_at is not None:
            self.duration.observe((event.finished_at - event.started_at).total_seconds())

    def _on_claim(self, seconds: float, _fires: int) -> None:
        self.claims.observe(seconds)


def _outcome(event: SchedulerEvent) -> str | None:
    """The outcome label of an event that ends a fire (None for any other event)."""
    if isinstance(event, JobExecutionEvent):
        if isinstance(event.exception, RunTimedOutError):
            return Outcome.TIMED_OUT.value
        if isinstance(event.exception, RunCancelledError):
            return Outcome.CANCELLED.value
    return _OUTCOMES.get(event.code)


class _StoreCollector(Collector):
    """Gauges read from the store at scrape time (a few small queries)."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def describe(self) -> list[Metric]:
        return []  # computed at scrape time; nothing to check for clashes up front

    def collect(self) -> Iterator[Metric]:
        scheduler = self._scheduler
        up = GaugeMetricFamily(
            "tickwork_store_up", "1 when the last scrape could read the database, else 0."
        )
        try:
            jobs = scheduler.count_jobs()
            broken = scheduler.count_broken_jobs()
            nodes = len(scheduler.get_nodes())
            paused = scheduler.get_scheduler_state().is_paused
        except TickworkError as exc:
            logger.warning("metrics cannot read the store: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge("tickwork_jobs", "Jobs in the store (paused ones included).", jobs)
        yield _gauge(
            "tickwork_jobs_broken",
            "Jobs the engine marked broken (unreadable row or failing trigger); not scheduled "
            "until edited.",
            broken,
        )
        yield _gauge("tickwork_nodes_running", "Scheduler nodes registered as running.", nodes)
        yield _gauge(
            "tickwork_scheduler_paused", "1 while the whole cluster is paused, else 0.", paused
        )
        yield _gauge(
            "tickwork_runs_overdue",
            "Runs of this node that timed out but whose call still runs (threads cannot be "
            "killed); each holds a worker thread until it returns.",
            scheduler.engine.overdue_runs,
        )
        yield _gauge(
            "tickwork_node_paused",
            "1 while this node runs nothing (its own or the global pause), else 0.",
            scheduler.state == STATE_PAUSED,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def install_metrics(
    app: Flask,
    metrics: SchedulerMetrics,
    *,
    path: str = "/metrics",
    allows: Callable[[], bool] | None = None,
    challenge: str = "",
) -> None:
    """Serve ``metrics`` at ``path`` on ``app``.

    :param allows: decides whether the current request may read them (the API's auth);
        refused requests get 401 with ``challenge`` as ``WWW-Authenticate``.
    """

    def serve_metrics() -> Response:
        if allows is not None and not allows():
            headers = {"WWW-Authenticate": challenge} if challenge else {}
            return Response("authentication required\n", 401, headers, mimetype="text/plain")
        return Response(metrics.render(), 200, {"Content-Type": CONTENT_TYPE_LATEST})

    app.add_url_rule(path, "tickwork_metrics", serve_metrics, methods=["GET"])


__all__ = ["SchedulerMetrics", "install_metrics"]
