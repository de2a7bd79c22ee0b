"""Engine benchmark: tickwork vs APScheduler 3.11 on SQLite files and PostgreSQL.

APScheduler runs as BackgroundScheduler + SQLAlchemyJobStore + its default
ThreadPoolExecutor (10 workers); tickwork as ``Scheduler(url)`` with its defaults. Each
scenario x library x backend x repeat runs in its own child process on a fresh database, so
imports, caches and RSS never leak between runs. The parent prints a markdown table of
medians and ratios (>1 means tickwork is better) and writes raw results to bench/results/.

Run: ``scripts/with-postgres .venv/bin/python bench/bench_engine.py [--quick]``
(see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    LIBS,
    Metric,
    Metrics,
    Record,
    cell,
    error_lines,
    fresh_database,
    median_metric,
    peak_mb,
    quiet_logging,
    ratio,
    run_child,
    write_results,
)
from bench.scenarios.adding import ADD_METRICS, child_add_bulk, child_add_one_by_one  # noqa: E402
from bench.scenarios.due_at_once import DUE_METRICS, child_due_at_once  # noqa: E402
from bench.scenarios.single_due_latency import (  # noqa: E402
    LATENCY_METRICS,
    child_single_due_latency,
)
from bench.scenarios.startup import STARTUP_METRICS, child_fill, child_startup  # noqa: E402

#: This runner; each measurement runs as ``bench_engine.py --child SPEC``.
SCRIPT = Path(__file__).resolve()
SCENARIOS = (
    "add_one_by_one",
    "add_bulk",
    "due_at_once_1k",
    "due_at_once_10k",
    "single_due_latency",
    "startup_100k",
)


@dataclass(frozen=True)
class Variant:
    """One sized case of a scenario, run for each library, backend and repeat."""

    scenario: str
    label: str
    params: dict[str, Any]
    libs: tuple[str, ...] = LIBS
    timeout: float = 900.0


def plan_variants(scenarios: list[str], quick: bool) -> list[Variant]:
    """The cases to run; ``--quick`` divides every size by ten to check the suite end to end."""
    scale = 10 if quick else 1
    k10, k100 = 10_000 // scale, 100_000 // scale
    fires = 10 if quick else 30  # lateness percentiles need more than 1/10 of 30 samples
    cases: dict[str, list[Variant]] = {
        "add_one_by_one": [Variant("add_one_by_one", f"{k10:,}", {"n": k10})],
        "add_bulk": [
            Variant("add_bulk", f"{k10:,}", {"n": k10}, libs=("tickwork",)),
            Variant("add_bulk", f"{k100:,}", {"n": k100}, libs=("tickwork",)),
        ],
        "due_at_once_1k": [Variant("due_at_once_1k", f"{1000 // scale:,}", {"n": 1000 // scale})],
        "due_at_once_10k": [Variant("due_at_once_10k", f"{k10:,}", {"n": k10})],
        "single_due_latency": [Variant("single_due_latency", f"{fires} fires", {"count": fires})],
        "startup_100k": [
            Variant("startup_100k", f"{k10:,}", {"n": k10}),
            Variant("startup_100k", f"{k100:,}", {"n": k100}),
        ],
    }
    variants = [variant for name in scenarios for variant in cases[name]]
    if "add_bulk" in scenarios and "add_one_by_one" not in scenarios:
        # add_bulk compares against APScheduler's one-by-one rate: APScheduler has no bulk API.
        variants.insert(0, Variant("add_one_by_one", f"{k10:,}", {"n": k10}, libs=("apscheduler",)))
    return variants


def run_variant(
    variant: Variant, lib: str, backend: str, repeat: int, admin_url: str | None
) -> Record:
    """Measure one case on a fresh database; a failure becomes an error record, not a crash."""
    record = Record(variant.scenario, variant.label, lib, backend, repeat, variant.params)
    began = time.perf_counter()
    try:
        with fresh_database(backend, admin_url) as url:
            kind = _child_kind(variant.scenario)
            if kind == "startup":
                fill = run_child(SCRIPT, "fill", lib, url, variant.params, variant.timeout)
                record.metrics["fill_s"] = fill["fill_s"]
            record.metrics.update(
                run_child(SCRIPT, kind, lib, url, variant.params, variant.timeout)
            )
    except Exception as exc:  # recorded and reported; the suite goes on
        record.error = str(exc)
    record.wall_s = time.perf_counter() - began
    return record


def _child_kind(scenario: str) -> str:
    if scenario.startswith("due_at_once"):
        return "due_at_once"
    if scenario == "startup_100k":
        return "startup"
    return scenario


def run_suite(args: argparse.Namespace) -> list[Record]:
    """Every case x backend x repeat, alternating libraries so drift in machine load hits both."""
    admin_url = os.environ.get("TICKWORK_TEST_POSTGRES_URL")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not admin_url:
        sys.exit("PostgreSQL needs TICKWORK_TEST_POSTGRES_URL: run under scripts/with-postgres")
    records = []
    for backend in backends:
        for variant in plan_variants(args.scenario, args.quick):
            for repeat in range(args.repeat):
                for lib in variant.libs:
                    record = run_variant(variant, lib, backend, repeat, admin_url)
                    records.append(record)
                    _progress(record)
    return records


def _progress(record: Record) -> None:
    status = "ERROR" if record.error else "ok"
    print(
        f"[{record.backend}] {record.scenario} {record.variant} {record.lib} "
        f"#{record.repeat + 1}: {status} ({record.wall_s:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    if record.error:
        print(record.error, file=sys.stderr, flush=True)


METRICS = {
    "add_one_by_one": ADD_METRICS,
    "add_bulk": ADD_METRICS,
    "due_at_once_1k": DUE_METRICS,
    "due_at_once_10k": DUE_METRICS,
    "single_due_latency": LATENCY_METRICS,
    "startup_100k": STARTUP_METRICS,
}


NOTES = {
    "add_one_by_one": "add_job() one by one on a scheduler started paused, interval jobs.",
    "add_bulk": (
        "tickwork add_jobs() in one transaction. APScheduler has no bulk API: its column "
        "repeats its one-by-one rate from add_one_by_one."
    ),
    "due_at_once_1k": "N date jobs due at the same instant T; lateness = job start - T.",
    "due_at_once_10k": "N date jobs due at the same instant T; lateness = job start - T.",
    "single_due_latency": "idle scheduler, one date job due 0.3 s after adding it, repeated.",
    "startup_100k": (
        "store pre-filled with N interval jobs; fresh process constructs and starts the "
        "scheduler, then lists every job."
    ),
}


def scenario_table(scenario: str, records: list[Record]) -> list[str]:
    """Rows ``metric | backend | tickwork | APScheduler | ratio`` for one scenario."""
    lines = [
        f"### {scenario}",
        "",
        NOTES[scenario],
        "",
        "| metric | backend | tickwork | APScheduler 3.11 | ratio |",
        "|---|---|---|---|---|",
    ]
    mine = [r for r in records if r.scenario == scenario]
    for variant in dict.fromkeys(r.variant for r in mine):
        for metric in METRICS[scenario]:
            for backend in dict.fromkeys(r.backend for r in mine):
                lines.append(_row(scenario, variant, metric, backend, records))
    return [*lines, ""]


def _row(scenario: str, variant: str, metric: Metric, backend: str, records: list[Record]) -> str:
    def pick(lib: str, name: str, label: str | None) -> list[Record]:
        return [
            r
            for r in records
            if r.scenario == name
            and r.lib == lib
            and r.backend == backend
            and (label is None or r.variant == label)
        ]

    ours = median_metric(pick("tickwork", scenario, variant), metric.key)
    if scenario == "add_bulk":
        theirs = median_metric(pick("apscheduler", "add_one_by_one", None), metric.key)
    else:
        theirs = median_metric(pick("apscheduler", scenario, variant), metric.key)
    label = f"{metric.label}, N={variant}"
    if scenario == "add_bulk":
        sizes = ", ".join(
            dict.fromkeys(r.variant for r in pick("apscheduler", "add_one_by_one", None))
        )
        label += f" (APScheduler: one by one, N={sizes or '?'})"
    return (
        f"| {label} | {backend} | {cell(*ours, metric.digits)} | "
        f"{cell(*theirs, metric.digits)} | {ratio(metric, ours[0], theirs[0])} |"
    )


def render_report(records: list[Record], args: argparse.Namespace, elapsed: float) -> str:
    """The markdown report: header, one table per scenario, then every error in full."""
    lines = [
        f"## tickwork engine benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Medians of {args.repeat} run(s){' (--quick sizes)' if args.quick else ''}; "
        f"ratio > 1 means tickwork is better. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared, noisy). Suite wall time {elapsed / 60:.1f} min.",
        "",
    ]
    for scenario in SCENARIOS:
        if any(r.scenario == scenario for r in records) and (
            scenario in args.scenario or scenario != "add_one_by_one"
        ):
            lines.extend(scenario_table(scenario, records))
    lines += error_lines(records)
    return "\n".join(lines) + "\n"


CHILDREN: dict[str, Callable[..., Metrics]] = {
    "add_one_by_one": child_add_one_by_one,
    "add_bulk": child_add_bulk,
    "due_at_once": child_due_at_once,
    "single_due_latency": child_single_due_latency,
    "fill": child_fill,
    "startup": child_startup,
}


def child_main(spec_json: str) -> None:
    """Entry point of a child: run one measurement and print it as one ``RESULT`` JSON line."""
    quiet_logging()
    spec = json.loads(spec_json)
    metrics = CHILDREN[spec["kind"]](spec["lib"], spec["url"], **spec["params"])
    metrics.setdefault("peak_rss_mb", peak_mb())
    print("RESULT " + json.dumps(metrics), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/10 sizes, one run each")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, help="runs per case (default 3, --quick 1)")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return
    began = time.perf_counter()
    records = run_suite(args)
    elapsed = time.perf_counter() - began
    report = render_report(records, args, elapsed)
    path = write_results(records, report, args, elapsed)
    print(report)
    print(f"raw results: {path.relative_to(ROOT)} (+ .md)", file=sys.stderr)


if __name__ == "__main__":
    main()
