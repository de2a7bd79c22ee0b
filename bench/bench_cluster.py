"""Cluster benchmark: several scheduler processes sharing one store, tickwork vs APScheduler 3.11.

Two scenarios, each run on fresh databases with real scheduler subprocesses:

- ``shared_store``: 3 processes share one store (SQLite file and PostgreSQL) holding 50
  interval jobs that fire every second for 20 s (``--quick``: 10 s), so exactly 1,000 (500)
  fires are expected. Counts duplicates, misses and lateness from what the job function
  wrote, plus tickwork's own run history.
- ``nodes_scaling`` (PostgreSQL, tickwork only): 10k date jobs (``--quick``: 2k) due at the
  same instant, run by 1, 2 and 3 node processes: fires/s, missed and lateness.

Run: ``scripts/with-postgres .venv/bin/python bench/bench_cluster.py [--quick] [--repeat N]``
(see bench/README.md).
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(ROOT))

from bench.cluster import (  # noqa: E402
    child_main,
    kill_all,
)
from bench.harness import (  # noqa: E402
    LIBS,
    Record,
    error_lines,
    fresh_database,
    write_results,
)
from bench.scenarios.nodes_scaling import (  # noqa: E402
    NODE_COUNTS,
    nodes_table,
    run_nodes_scaling,
)
from bench.scenarios.shared_store import (  # noqa: E402
    run_shared_store,
    shared_table,
)

SCENARIOS = ("shared_store", "nodes_scaling")


def run_case(
    scenario: str,
    variant: str,
    lib: str,
    backend: str,
    repeat: int,
    params: dict[str, Any],
    admin_url: str | None,
) -> Record:
    record = Record(scenario, variant, lib, backend, repeat, params)
    began = time.perf_counter()
    try:
        with (
            fresh_database(backend, admin_url) as url,
            tempfile.TemporaryDirectory(prefix="tickwork-cluster-") as tmp,
        ):
            if scenario == "shared_store":
                record.metrics = run_shared_store(lib, url, params["fires"], Path(tmp))
            else:
                record.metrics = run_nodes_scaling(params["nodes"], url, params["jobs"], Path(tmp))
    except Exception as exc:  # recorded and reported; the suite goes on
        record.error = f"{type(exc).__name__}: {exc}"
    finally:
        kill_all()
    record.wall_s = time.perf_counter() - began
    status = "ERROR" if record.error else "ok"
    print(
        f"[{backend}] {scenario} {variant} {lib} #{repeat + 1}: {status} "
        f"({record.wall_s:.1f} s) {_brief(record)}",
        file=sys.stderr,
        flush=True,
    )
    if record.error:
        print(record.error, file=sys.stderr, flush=True)
    return record


def _brief(record: Record) -> str:
    m = record.metrics
    if record.scenario == "shared_store" and m:
        return (
            f"executed {m['executed']}/{m['expected']}, dup {m['duplicates']}, "
            f"miss {m['misses']}, per process {m['per_process']}"
        )
    if record.scenario == "nodes_scaling" and m:
        return f"executed {m['executed']}/{m['jobs']}, fires/s {m['fires_per_s'] or 0:,.0f}"
    return ""


def run_suite(args: argparse.Namespace) -> list[Record]:
    admin_url = os.environ.get("TICKWORK_TEST_POSTGRES_URL")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not admin_url:
        sys.exit("PostgreSQL needs TICKWORK_TEST_POSTGRES_URL: run under scripts/with-postgres")
    fires = 10 if args.quick else 20
    jobs = 2_000 if args.quick else 10_000
    records = []
    if "shared_store" in args.scenario:
        for backend in backends:
            for repeat in range(args.repeat):
                for lib in LIBS:  # alternate so that drift in machine load hits both
                    records.append(
                        run_case(
                            "shared_store",
                            f"{fires} s",
                            lib,
                            backend,
                            repeat,
                            {"fires": fires},
                            admin_url,
                        )
                    )
    if "nodes_scaling" in args.scenario and "postgresql" in backends:
        for repeat in range(args.repeat):
            for nodes in NODE_COUNTS:
                records.append(
                    run_case(
                        "nodes_scaling",
                        str(nodes),
                        "tickwork",
                        "postgresql",
                        repeat,
                        {"nodes": nodes, "jobs": jobs},
                        admin_url,
                    )
                )
    return records


def render_report(records: list[Record], args: argparse.Namespace, elapsed: float) -> str:
    fires = 10 if args.quick else 20
    jobs = 2_000 if args.quick else 10_000
    lines = [
        f"## tickwork cluster benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Medians of {args.repeat} run(s){' (--quick sizes)' if args.quick else ''}; "
        f"ratio > 1 means tickwork is better. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared, noisy). Wall time {elapsed / 60:.1f} min.",
        "",
    ]
    if any(r.scenario == "shared_store" for r in records):
        lines += shared_table(records, fires)
    if any(r.scenario == "nodes_scaling" for r in records):
        lines += nodes_table(records, jobs)
    samples = [
        (r, sample) for r in records if not r.error for sample in r.metrics.get("log_samples", [])
    ]
    if samples:
        lines += ["### log samples (first distinct warnings/errors per run)", "", "```"]
        lines += [f"{r.scenario} {r.variant} {r.lib} {r.backend}: {s}" for r, s in samples]
        lines += ["```", ""]
    lines += error_lines(records)
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s runs and 2k-job bursts")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (default 1)")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return
    atexit.register(kill_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    records = run_suite(args)
    elapsed = time.perf_counter() - began
    report = render_report(records, args, elapsed)
    path = write_results(records, report, args, elapsed, name="cluster")
    print(report)
    print(f"raw results: {path.relative_to(ROOT)} (+ .md)", file=sys.stderr)


if __name__ == "__main__":
    main()
