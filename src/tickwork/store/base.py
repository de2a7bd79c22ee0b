"""The store contract: everything the scheduler and engine may ask of the database.

The store is the source of truth; nothing above it keeps state that a restart or a second
process could not see. SQLite and PostgreSQL differ only behind this class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tickwork.job import Job
from tickwork.node import Node, PauseState, SchedulerState
from tickwork.run import Outcome, Run, RunRequest, RunResult, RunStart, SkipReason


@dataclass(frozen=True, slots=True, kw_only=True)
class DueJob(Job):
    """A job whose ``next_run_time`` has come, as locked by a claim.

    ``running`` counts this job's unfinished runs across the whole cluster, so
    ``max_instances`` holds for all nodes together. ``last_claimed`` is the latest
    scheduled time of its scheduled (not manual) runs: fire times up to it were claimed
    already, whatever an edit since did to ``next_run_time``.
    """

    next_run_time: datetime
    running: int
    last_claimed: datetime | None = None


@dataclass(frozen=True, slots=True)
class Fire:
    """One claimed run to hand to an executor; ``coalesced`` earlier fire times folded
    into it."""

    job_id: str
    func_ref: str
    args: list[Any]
    kwargs: dict[str, Any]
    executor: str
    scheduled_time: datetime
    misfire_grace_time: float | None
    coalesced: int = 0
    #: The job's ``timeout`` when it was claimed: seconds the call may take, or None.
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """A fire time a claim records as ``missed``: why (``reason``), and the sentence kept
    as the run's error (``detail``)."""

    job_id: str
    scheduled_time: datetime
    reason: SkipReason
    detail: str


@dataclass(slots=True)
class ClaimPlan:
    """What the engine decided for a batch of due jobs; applied by the store atomically.

    ``next_run_times`` maps each due job to its new next run time (``None``: the trigger is
    exhausted). ``removed`` lists those of them the claim deletes: all but the jobs with
    ``rerun_lost``, which stay (paused) in case their last run is lost. ``fires`` become
    ``running`` rows, ``skipped`` become ``missed`` rows carrying the reason.
    ``coalesced`` maps a job to the number of earlier fire times its one run (fired or
    skipped) of this claim stands for. ``broken`` maps jobs that could not be planned to
    the reason: they are marked broken and left unscheduled, and the rest of the batch
    goes on.
    """

    next_run_times: dict[str, datetime | None] = field(default_factory=dict)
    fires: list[Fire] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    coalesced: dict[str, int] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


#: Given the due jobs, the claim's "now" and its horizon (now + look-ahead), decide what
#: to fire.
Planner = Callable[[Sequence[DueJob], datetime, datetime], ClaimPlan]


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What a claim did: the plan it applied (empty when paused), the pause state, and
    how long until the next job is due (None: no job is scheduled, or the batch was full).
    ``node_alive`` is False when the claiming node's row says it is no longer running
    (declared dead, or stopped): nothing was claimed, and the node must fence itself.
    """

    plan: ClaimPlan
    pause: PauseState
    batch_full: bool
    next_due_in: float | None = None
    node_alive: bool = True


@dataclass(frozen=True, slots=True)
class LostRun:
    """A run whose node died before it finished."""

    job_id: str
    scheduled_time: datetime
    node_id: str
    rerun: bool


class Store(ABC):
    """Durable state of a tickwork cluster.

    Every method is one transaction. Methods that change jobs or pause state notify the
    other nodes (see :meth:`listen`) after they commit.
    """

    #: ``"sqlite"`` or ``"postgresql"``.
    dialect: str
    #: ``True`` when other processes can learn of changes at once (LISTEN/NOTIFY).
    pushes_notifications: bool
    #: ``True`` when the database lives only inside this store (in memory): it is lost
    #: when the process ends and no other process can see it, so it serves one node and
    #: is refused by ``tickwork serve`` and the CLI.
    ephemeral: bool = False

    def attach(self, owner: object) -> None:
        """Called by each engine (node) built on this store, before it registers.

        A shared database serves any number of engines, so this does nothing; an
        :attr:`ephemeral` store serves only one, and refuses another with
        ConfigurationError.
        """
        return None

    # -- lifecycle ---------------------------------------------------------------------------

    @abstractmethod
    def start(self, *, create: bool = True) -> None:
        """Bring the schema to the latest migration and make sure the scheduler row exists.

        :param create: with ``False``, a database that does not exist yet (a SQLite file,
            or one without tickwork's tables) is refused with ConfigurationError instead
            of being created, so a mistyped URL cannot silently start an empty store.
        :raises SchemaMismatchError: the database has a schema newer than this tickwork.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections and stop listening."""

    @abstractmethod
    def now(self) -> datetime:
        """The time against which due-ness is judged (PostgreSQL: the database's clock)."""

    # -- scheduler row -----------------------------------------------------------------------

    @abstractmethod
    def get_scheduler_state(self) -> SchedulerState: ...

    @abstractmethod
    def set_global_paused(self, paused: bool) -> SchedulerState:
        """Set the global pause; each node's own ``is_paused`` is left untouched."""

    # -- jobs --------------------------------------------------------------------------------

    @abstractmethod
    def add_jobs(self, jobs: Sequence[Job], *, replace_existing: bool = False) -> None:
        """Insert jobs; an id already taken raises ConflictError and inserts none of them.

        A retry after a connection lost while committing finds its own rows, and
        succeeds, instead of reporting them as a conflict."""

    @abstractmethod
    def get_job(self, job_id: str) -> Job:
        """Return the job or raise JobLookupError."""

    @abstractmethod
    def get_jobs(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: str = "next_run_time",
    ) -> list[Job]:
        """Return jobs ordered by ``order`` (``"next_run_time"``, paused last, or ``"id"``).

        With ``order="id"``, ``after`` is a keyset cursor: only ids greater than it.
        """

    @abstractmethod
    def count_jobs(self) -> int: ...

    @abstractmethod
    def count_broken_jobs(self) -> int:
        """How many jobs a claim marked broken (see :attr:`Job.broken_reason`)."""

    @abstractmethod
    def update_job(self, job_id: str, change: Callable[[Job], Job]) -> Job:
        """Apply ``change`` to the stored job under a row lock and store its result."""

    @abstractmethod
    def remove_job(self, job_id: str) -> None:
        """Delete the job or raise JobLookupError. Its run history stays."""

    @abstractmethod
    def remove_all_jobs(self) -> int:
        """Delete every job; return how many there were."""

    # -- engine ------------------------------------------------------------------------------

    @abstractmethod
    def claim_due(
        self,
        node_id: str,
        planner: Planner,
        *,
        limit: int,
        now: datetime | None = None,
        look_ahead: float = 0.0,
    ) -> ClaimResult:
        """Lock up to ``limit`` due jobs, let ``planner`` decide, apply the plan, commit.

        A job row is claimable when its ``next_run_time`` is at or before ``now`` (default:
        :meth:`now`) plus ``look_ahead`` seconds and no other claim holds it. A row another
        claim holds is never claimed twice: PostgreSQL skips it without waiting (``FOR
        UPDATE SKIP LOCKED``) and claims the other due rows; SQLite's claim waits for the
        database's write lock (``BEGIN IMMEDIATE``), so it runs after the holder committed
        and finds the row advanced. Nothing is claimed while the global pause or this
        node's pause is set. Advancing ``next_run_time`` and inserting the run rows happen
        in the same transaction, and the unique (job, scheduled time) constraint refuses
        a second run row, so a fire is claimed at most once.
        """

    @abstractmethod
    def start_manual_run(
        self, job_id: str, node_id: str | None, request: RunRequest | None = None
    ) -> Fire:
        """Record a run-now of the job as ``running`` on this node, without touching its
        schedule, and return it as a fire. JobLookupError if there is no such job.

        ``request`` (checked by the caller) may give the run arguments of its own, which
        the fire carries instead of the job's, and who asked; the run's row records both
        (``Run.args``, ``Run.kwargs``, ``Run.requested_by``), the job is not changed.

        Counting the job's running runs and inserting this one happen in one transaction
        that holds the job row, so concurrent run-nows (from any node) never exceed
        ``max_instances``: MaxInstancesReachedError once it is reached. A retry after a
        connection lost while committing returns the run its first attempt recorded.
        """

    @abstractmethod
    def finish_runs(self, results: Sequence[RunResult]) -> None:
        """Write the outcome of finished runs (one batch, one transaction).

        A run marked ``lost`` takes the reported outcome: its node was only cut off.
        """

    @abstractmethod
    def mark_runs_started(self, starts: Sequence[RunStart]) -> None:
        """Set ``started_at`` of runs still ``running`` (one batch, one transaction); a
        run that has ended or has a start time already is left alone."""

    # -- nodes -------------------------------------------------------------------------------

    @abstractmethod
    def register_node(self, node: Node) -> None:
        """Add the node, or take over a row with the same id (its unfinished runs are lost)."""

    @abstractmethod
    def heartbeat(self, node_id: str) -> PauseState:
        """Record that the node is alive; return what it must obey."""

    @abstractmethod
    def stop_node(self, node_id: str) -> None:
        """Mark the node stopped (clean shutdown); runs it never finished become lost."""

    @abstractmethod
    def get_node(self, node_id: str) -> Node:
        """Return the node or raise NodeLookupError."""

    @abstractmethod
    def get_nodes(self, *, include_stopped: bool = False) -> list[Node]: ...

    @abstractmethod
    def set_node_paused(self, node_id: str, paused: bool) -> Node: ...

    @abstractmethod
    def reap_dead_nodes(self, timeout: float) -> list[LostRun]:
        """Declare nodes silent for ``timeout`` seconds dead and mark their runs ``lost``.

        For jobs whose option says lost fires are rerun (see :class:`~tickwork.job.Job`),
        the lost fire is scheduled again right away by pulling the job's
        ``next_run_time`` forward. Such a one-shot job is kept (with no next run time)
        until its run ends, so there is a job to run again.
        """

    @abstractmethod
    def request_cancel(self, job_id: str, scheduled_time: datetime) -> bool:
        """Ask the node running the run (job id, scheduled time) to cancel it, as its
        timeout would; False when no such run is running. The node acts on its next
        heartbeat (see :meth:`cancel_requests`)."""

    @abstractmethod
    def cancel_requests(self, node_id: str) -> list[tuple[str, datetime]]:
        """The node's running runs (job id, scheduled time) that were asked to cancel."""

    @abstractmethod
    def abandon_runs(
        self, node_id: str, runs: Sequence[tuple[str, datetime]], reason: str
    ) -> list[LostRun]:
        """Mark the node's given ``running`` runs (job id, scheduled time) ``lost``, with
        reruns as in :meth:`reap_dead_nodes`."""

    # -- history -----------------------------------------------------------------------------

    @abstractmethod
    def get_runs(
        self,
        *,
        job_id: str | None = None,
        outcome: Outcome | None = None,
        node_id: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[Run]:
        """Newest first; ``before`` is a keyset cursor (only runs with smaller ids)."""

    @abstractmethod
    def prune_runs(self, older_than: datetime) -> int:
        """Delete finished runs claimed before ``older_than``; return how many."""

    # -- notifications -----------------------------------------------------------------------

    @abstractmethod
    def listen(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever another process changes jobs or pause state.

        Stores that cannot push (SQLite) never call it; the engine polls them instead.
        """

    @abstractmethod
    def unlisten(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``; the last one gone releases the listening connection."""
