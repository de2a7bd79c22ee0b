"""Fault injection: 3 nodes on PostgreSQL run 40 interval jobs while a seeded random
sequence of faults hits them (kill -9, SIGSTOP past the node timeout, graceful restarts,
PostgreSQL restarts, edits through the Python API and the CLI). Afterwards every execution
matches one ``succeeded`` run, nothing ran twice or is left ``running``, and every fire
the triggers produced is accounted for in history.

``TICKWORK_FAULT_SEED`` replays a sequence (the seed is printed, and named in every
failure); ``TICKWORK_FAULT_SECONDS`` sets how long faults go on.

The rules of the reconciliation, which are the product's documented behaviour:

- A fire time of a job's trigger is accounted for by a run row at that time (any
  outcome), or by the ``coalesced`` count of the next row (it stands for that many fire
  times just before it, of which the first may be an off-grid time such as a rerun).
- An edit (pause, resume, reschedule, a replacing re-add, a ``next_run_time``) takes
  effect when it commits and sets the job's next run time afresh: fire times due before
  it that no node had claimed yet (nodes back off after a database outage) are dropped
  without a record, and fires claimed ahead still run. So fire times from the job's
  latest run before the edit to ``claim_ahead`` after its end may or may not have rows,
  of either trigger. A paused job has no rows after that window and before its resume.
- A ``next_run_time`` the test sets moves the job's grid: it fires then and every
  interval after it. Rows off the grid are such a time, or a rerun of a ``rerun_lost``
  job after a lost run (at most one per lost run; a run of a frozen node is lost when
  the node is declared dead, and reports its real outcome when the node wakes).
- An execution whose run row is ``lost`` is allowed only on a node killed with -9: the
  call ended but its outcome died with the process.
- Two executions of a ``max_instances=1`` job overlap only when the earlier one ran on a
  node declared dead before the later one started (a frozen node's running call cannot
  be stopped; see "Fencing" in docs/engine.md).
"""

from __future__ import annotations

import itertools
import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance.cluster import ROOT, pg_ctl
from tests.acceptance.fault_node import SETTINGS
from tickwork import Outcome, Run, Scheduler
from tickwork.node import Node as NodeInfo
from tickwork.node import NodeState

pytestmark = pytest.mark.slow

#: Seconds of faults; with setup, the quiet period and the checks the test takes about
#: 40 s more.
DURATION = float(os.environ.get("TICKWORK_FAULT_SECONDS", "90"))
SEED = int(os.environ.get("TICKWORK_FAULT_SEED") or random.SystemRandom().randrange(2**32))
NODES = 3
JOBS = 40
#: After the faults: time for reaping, reruns and backlogs to settle before the stop.
QUIET = 15.0
#: Fire times this close to the stop may or may not have been claimed.
STOP_MARGIN = 3.0
#: Slack for the clocks of processes on one host and the claim-ahead hold.
SLACK = SETTINGS.claim_ahead + 0.1
TICKWORK = str(Path(sys.executable).with_name("tickwork"))


@dataclass(frozen=True)
class Spec:
    """One job's options, as added (and re-added) by the test."""

    id: str
    seconds: int
    sleep: float
    coalesce: bool = True
    max_instances: int = 1
    rerun_lost: bool = False
    misfire_grace_time: float | None = 1.0

    def add(self, admin: Scheduler, log: Path, origin: datetime, replace: bool = False) -> None:
        admin.add_job(
            "tests.jobs:log_execution",
            "interval",
            [str(log), self.id, self.sleep],
            seconds=self.seconds,
            start_date=origin,
            coalesce=self.coalesce,
            max_instances=self.max_instances,
            rerun_lost=self.rerun_lost,
            misfire_grace_time=self.misfire_grace_time,
            replace_existing=replace,
            id=self.id,
        )


def specs(rng: random.Random) -> list[Spec]:
    """40 jobs every 1-3 s: some single-instance with sleeps that can outlast the
    interval, some without coalescing, some rerun when lost."""
    made = []
    for n in range(JOBS):
        seconds, kind = 1 + n % 3, n % 4
        job_id = f"job{n:02}"
        if kind == 0:
            made.append(Spec(job_id, seconds, rng.uniform(0.3, 2.5), rerun_lost=n % 8 == 0))
        elif kind == 1:
            grace = rng.choice([1.0, None])
            made.append(Spec(job_id, seconds, 0.05, coalesce=False, misfire_grace_time=grace))
        elif kind == 2:
            made.append(Spec(job_id, seconds, 0.2, rerun_lost=True, max_instances=2))
        else:
            made.append(Spec(job_id, seconds, 0.05, max_instances=3))
    return made


@dataclass
class Timeline:
    """What the test did to one job, in epoch seconds."""

    #: (from, to, seconds, grid origin): the trigger in force; consecutive ones overlap at
    #: an edit. An explicit next_run_time moves the grid's origin to it.
    epochs: list[tuple[float, float, int, float]]
    #: Windows whose fire times may or may not have rows.
    optional: list[tuple[float, float]] = field(default_factory=list)
    #: Windows in which no row may fall (the inside of a pause).
    forbidden: list[tuple[float, float]] = field(default_factory=list)
    #: next_run_time values the test set.
    patched: list[float] = field(default_factory=list)
    #: When the pause in force began and its request ended.
    paused: tuple[float, float] | None = None

    def reschedule(
        self, since: float, started: float, ended: float, seconds: int, origin: float
    ) -> None:
        begun, _, old, old_origin = self.epochs[-1]
        self.epochs[-1] = (begun, ended + SLACK, old, old_origin)
        self.epochs.append((started, math.inf, seconds, origin))
        self.optional.append((since, ended + SLACK))

    @property
    def seconds(self) -> int:
        return self.epochs[-1][2]


@dataclass
class Node:
    process: subprocess.Popen[str]
    node_id: str


class Cluster:
    """The node processes; each fault is applied to a random one and then repaired."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url = url
        self.logs = logs
        self.nodes: list[Node] = []
        self.killed_pids: set[int] = set()
        self.started = 0

    def start_node(self) -> Node:
        self.started += 1
        stderr = (self.logs / f"node{self.started}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.acceptance.fault_node", self.url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        stderr.close()
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready"), f"node did not start: {line!r}"
        node = Node(process, line.split()[1])
        self.nodes.append(node)
        return node

    def replace(self, node: Node) -> None:
        self.nodes.remove(node)
        assert node.process.stdout is not None
        node.process.stdout.close()
        self.start_node()

    def stop_all(self) -> None:
        for node in self.nodes:
            node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            assert node.process.wait(timeout=90) == 0, f"node {node.node_id} failed to stop"

    def kill_all(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.kill()
            node.process.wait(timeout=30)
            if node.process.stdout is not None:
                node.process.stdout.close()


class Faults:
    """The seeded fault sequence, and the record of what it did."""

    def __init__(
        self,
        rng: random.Random,
        cluster: Cluster,
        admin: Scheduler,
        jobs: dict[str, Spec],
        log: Path,
        origin: datetime,
    ) -> None:
        self.rng = rng
        self.cluster = cluster
        self.admin = admin
        self.jobs = jobs
        self.log = log
        self.origin = origin
        self.timelines = {
            job_id: Timeline([(origin.timestamp(), math.inf, spec.seconds, origin.timestamp())])
            for job_id, spec in jobs.items()
        }
        self.done: Counter[str] = Counter()
        self.actions: dict[str, Callable[[], None]] = {
            "kill -9": self.kill,
            "sigstop": self.freeze,
            "graceful restart": self.restart,
            "postgres restart": self.restart_postgres,
            "pause/resume": self.pause_or_resume,
            "reschedule": self.reschedule,
            "replace re-add": self.re_add,
            "next_run_time into the past": self.patch_past,
        }
        self.weights = [2, 1, 2, 1, 3, 2, 2, 2]

    def run(self, duration: float) -> None:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            time.sleep(self.rng.uniform(1.5, 4.0))
            (name,) = self.rng.choices(list(self.actions), self.weights)
            print(f"{datetime.now(UTC):%H:%M:%S.%f} fault: {name}", flush=True)
            self.actions[name]()
            self.done[name] += 1
        for job_id in [j for j, t in self.timelines.items() if t.paused]:
            self.resume(job_id, cli=False)

    def victim(self) -> Node:
        return self.rng.choice(self.cluster.nodes)

    def kill(self) -> None:
        node = self.victim()
        self.cluster.killed_pids.add(node.process.pid)
        node.process.kill()
        node.process.wait(timeout=30)
        self.cluster.replace(node)

    def freeze(self) -> None:
        node = self.victim()
        node.process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(SETTINGS.node_timeout + self.rng.uniform(1.5, 3.0))
        finally:
            node.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        node = self.victim()
        node.process.send_signal(signal.SIGTERM)
        assert node.process.wait(timeout=90) == 0, f"seed {SEED}: graceful stop failed"
        self.cluster.replace(node)

    def restart_postgres(self) -> None:
        pg_ctl("stop", "-m", "fast")
        try:
            time.sleep(self.rng.uniform(1.0, 4.0))
        finally:
            pg_ctl("restart")  # with the options of the first start

    def active_job(self) -> str:
        return self.rng.choice(sorted(j for j, t in self.timelines.items() if not t.paused))

    def pause_or_resume(self) -> None:
        paused = sorted(j for j, t in self.timelines.items() if t.paused)
        if paused and self.rng.random() < 0.6:
            self.resume(self.rng.choice(paused), cli=self.rng.random() < 0.5)
            return
        job_id = self.active_job()
        since = self.unclaimed_since(job_id)
        if self.rng.random() < 0.5:
            self.cli("pause", job_id)
        else:
            self.admin.pause_job(job_id)
        self.timelines[job_id].paused = (since, time.time())

    def resume(self, job_id: str, cli: bool) -> None:
        timeline = self.timelines[job_id]
        assert timeline.paused is not None
        paused_from, paused_at = timeline.paused
        started = time.time()
        if cli:
            self.cli("resume", job_id)
        else:
            self.admin.resume_job(job_id)
        ended = time.time()
        timeline.optional.append((paused_from, ended + SLACK))
        timeline.forbidden.append((paused_at + SLACK, started - 0.1))
        timeline.paused = None

    def cli(self, *args: str) -> None:
        done = subprocess.run(
            [TICKWORK, "jobs", *args],
            env={**os.environ, "TICKWORK_DATABASE_URL": self.cluster.url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"seed {SEED}: tickwork jobs {args}: {done.stderr}"

    def reschedule(self) -> None:
        job_id = self.active_job()
        timeline = self.timelines[job_id]
        seconds = self.rng.choice([s for s in (1, 2, 3) if s != timeline.seconds])
        since = self.unclaimed_since(job_id)
        started = time.time()
        self.admin.reschedule_job(
            job_id, trigger="interval", seconds=seconds, start_date=self.origin
        )
        timeline.reschedule(since, started, time.time(), seconds, self.origin.timestamp())

    def re_add(self) -> None:
        job_id = self.active_job()
        timeline = self.timelines[job_id]
        spec = self.jobs[job_id]
        since = self.unclaimed_since(job_id)
        started = time.time()
        Spec(**{**spec.__dict__, "seconds": timeline.seconds}).add(
            self.admin, self.log, self.origin, replace=True
        )
        timeline.reschedule(since, started, time.time(), timeline.seconds, self.origin.timestamp())

    def patch_past(self) -> None:
        job_id = self.active_job()
        moment = round(time.time() - self.rng.uniform(0.5, 6.0), 3)
        timeline = self.timelines[job_id]
        timeline.patched.append(moment)
        since = self.unclaimed_since(job_id)
        self.admin.modify_job(job_id, next_run_time=datetime.fromtimestamp(moment, UTC))
        # The job fires at ``moment`` and every interval after it: a grid from there.
        timeline.reschedule(min(since, moment), moment, time.time(), timeline.seconds, moment)

    def unclaimed_since(self, job_id: str) -> float:
        """From when the job's fire times may be unclaimed (its latest run's time, or
        now): an edit that sets ``next_run_time`` drops those with the old schedule."""
        latest = self.admin.get_runs(job_id, limit=1)
        now = time.time()
        return min(now, latest[0].scheduled_time.timestamp()) if latest else now


@dataclass(frozen=True)
class Execution:
    job_id: str
    scheduled: float
    pid: int
    started: float
    ended: float


def executions(log: Path) -> list[Execution]:
    found = []
    for line in log.read_text().splitlines():
        job_id, scheduled, pid, started, ended = line.split("\t")
        moment = datetime.fromisoformat(scheduled).timestamp()
        found.append(Execution(job_id, moment, int(pid), float(started), float(ended)))
    return found


def key(moment: float) -> int:
    """Fire times compared to the millisecond (the grid is whole seconds)."""
    return round(moment * 1000)


def within(moment: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= moment <= end for start, end in windows)


def grid(seconds: int, origin: float, start: float, end: float) -> list[float]:
    """Fire times of an interval trigger from ``origin`` in [start, end]."""
    first = 0 if start <= origin else math.ceil((start - origin) / seconds)
    times = []
    moment = origin + first * seconds
    while moment <= end:
        times.append(moment)
        moment += seconds
    return times


def reported_late(run: Run, nodes: dict[str, NodeInfo]) -> bool:
    """Whether a run was lost when its node was declared dead, and reported when the node
    came back (a frozen node): its job may have been rerun meanwhile."""
    node = nodes[str(run.node_id)]
    return (
        node.stopped_at is not None
        and node.state is NodeState.DEAD
        and run.finished_at is not None
        and run.finished_at > node.stopped_at
    )


def reconcile(
    spec: Spec,
    timeline: Timeline,
    runs: list[Run],
    nodes: dict[str, NodeInfo],
    origin: float,
    until: float,
) -> tuple[int, list[str]]:
    """How many fire times had to be accounted for, and the problems with one job's
    history; the rules are in the module docstring."""
    problems = []
    required = 0
    rows = sorted(runs, key=lambda run: run.scheduled_time)
    times = [run.scheduled_time.timestamp() for run in rows]
    on_grid = {
        key(moment)
        for begun, ended, seconds, start in timeline.epochs
        for moment in grid(seconds, start, begun, min(ended, until + STOP_MARGIN + 10))
    }
    covered: set[int] = set()
    for index, run in enumerate(rows):
        if not run.coalesced:
            continue
        previous = times[index - 1] if index else -math.inf
        moment = times[index]
        seconds, start = next(
            (s, o) for b, e, s, o in reversed(timeline.epochs) if b - SLACK <= moment <= e + SLACK
        )
        before = [t for t in grid(seconds, start, previous, moment) if previous < t < moment]
        stands_for = before[-run.coalesced :]
        covered.update(key(t) for t in stands_for)
        if run.coalesced - len(stands_for) > 1:
            problems.append(f"{run.scheduled_time} coalesced {run.coalesced}, gap {before}")
    present = {key(t) for t in times}
    for begun, ended, seconds, start in timeline.epochs:
        for moment in grid(seconds, start, max(begun, origin), min(ended, until)):
            if within(moment, timeline.optional):
                continue
            required += 1
            if key(moment) not in present | covered:
                problems.append(f"fire time {datetime.fromtimestamp(moment, UTC)} has no record")
    patched = {key(t) for t in timeline.patched}
    off_grid = [t for t in times if key(t) not in on_grid | patched]
    lost = sum(run.outcome is Outcome.LOST or reported_late(run, nodes) for run in rows)
    if len(off_grid) > (lost if spec.rerun_lost else 0):
        problems.append(f"{len(off_grid)} runs off the trigger's grid ({lost} lost): {off_grid}")
    inside = [t for t in times if within(t, timeline.forbidden)]
    if inside:
        problems.append(f"runs while paused: {inside} (pauses {timeline.forbidden})")
    return required, problems


def all_runs(admin: Scheduler) -> list[Run]:
    """The whole history, page by page."""
    found: list[Run] = []
    while page := admin.get_runs(limit=10_000, before=found[-1].id if found else None):
        found += page
    return found


@pytest.fixture
def admin(restartable_postgres: str) -> Iterator[Scheduler]:
    scheduler = Scheduler(restartable_postgres, timezone="UTC")
    yield scheduler
    scheduler.close()


def test_random_faults_lose_and_duplicate_nothing(
    restartable_postgres: str, admin: Scheduler, tmp_path: Path
) -> None:
    print(f"fault seed {SEED} (TICKWORK_FAULT_SEED={SEED} replays it)", flush=True)
    rng = random.Random(SEED)
    log = tmp_path / "executions.log"
    log.touch()
    cluster = Cluster(restartable_postgres, tmp_path)
    try:
        for _ in range(NODES):
            cluster.start_node()
        origin = datetime.fromtimestamp(math.ceil(time.time()) + 3, UTC)
        jobs = {spec.id: spec for spec in specs(rng)}
        for spec in jobs.values():
            spec.add(admin, log, origin)
        faults = Faults(rng, cluster, admin, jobs, log, origin)
        faults.run(DURATION)
        time.sleep(QUIET)
        until = time.time() - STOP_MARGIN
        cluster.stop_all()
    finally:
        cluster.kill_all()
    runs = all_runs(admin)
    nodes = {node.id: node for node in admin.get_nodes(include_stopped=True)}
    done = executions(log)
    context = f"seed {SEED}, logs in {tmp_path}"

    outcomes = Counter(run.outcome.value for run in runs)
    print(
        f"seed {SEED}: faults {dict(faults.done)}; runs {dict(outcomes)}; "
        f"coalesced {sum(run.coalesced for run in runs)}; executions {len(done)}",
        flush=True,
    )
    assert outcomes[Outcome.RUNNING.value] == 0, context
    assert outcomes[Outcome.INTERRUPTED.value] == 0, context

    # every execution is one fire, and every succeeded run is one execution
    by_fire = {(run.job_id, key(run.scheduled_time.timestamp())): run for run in runs}
    ran = Counter((e.job_id, key(e.scheduled)) for e in done)
    assert {fire: n for fire, n in ran.items() if n > 1} == {}, f"ran twice ({context})"
    succeeded = {fire for fire, run in by_fire.items() if run.outcome is Outcome.SUCCEEDED}
    assert succeeded - set(ran) == set(), f"succeeded without running ({context})"
    unrecorded = {
        fire: (by_fire[fire].outcome.value if fire in by_fire else None)
        for fire in set(ran) - succeeded
        if not (
            fire in by_fire
            and by_fire[fire].outcome is Outcome.LOST
            and nodes[str(by_fire[fire].node_id)].pid in cluster.killed_pids
        )
    }
    assert unrecorded == {}, f"executions without a succeeded run ({context})"

    # max_instances=1: no overlap, but for a call that went on on a node declared dead
    pids = {e: nodes[str(by_fire[(e.job_id, key(e.scheduled))].node_id)] for e in done}
    by_job: dict[str, list[Execution]] = defaultdict(list)
    for execution in done:
        by_job[execution.job_id].append(execution)
    for job_id, calls in by_job.items():
        if jobs[job_id].max_instances != 1:
            continue
        calls.sort(key=lambda e: e.started)
        for earlier, later in itertools.pairwise(calls):
            if later.started >= earlier.ended:
                continue
            node = pids[earlier]
            overlap = f"{job_id} overlapped: {earlier} and {later} ({context})"
            assert node.state is NodeState.DEAD, overlap
            assert node.stopped_at is not None, overlap
            assert node.stopped_at.timestamp() <= later.started + 0.1, overlap

    # every fire time is accounted for
    problems = {}
    fires = 0
    for job_id, spec in jobs.items():
        required, found = reconcile(
            spec,
            faults.timelines[job_id],
            [run for run in runs if run.job_id == job_id and not run.manual],
            nodes,
            origin.timestamp(),
            until,
        )
        fires += required
        if found:
            problems[job_id] = found
    print(f"seed {SEED}: {fires} fire times reconciled", flush=True)
    assert problems == {}, context
