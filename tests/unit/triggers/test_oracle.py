"""Property tests: tickwork's triggers against APScheduler 3.11 as the oracle.

Both implementations are chained a few steps from the same start (each fed its own
previous result, as a scheduler would) and must name the same *instants*. Instants, not
wall-clock tuples: on spring-forward day APScheduler returns a non-existent wall time such
as ``02:30+01:00`` in Europe/Berlin, which is the instant we return as ``03:30+02:00``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger as ApsCron
from apscheduler.triggers.date import DateTrigger as ApsDate
from apscheduler.triggers.interval import IntervalTrigger as ApsInterval
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tickwork.triggers import CronTrigger, DateTrigger, IntervalTrigger

from .strategies import cron_fields, instants, zones

STEPS = 4


def _instant(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _dst_change_between(zone: object, start: datetime, end: datetime) -> bool:
    """Whether the zone's UTC offset changes between two instants (sampled every 6 h)."""
    offsets = set()
    moment = start
    while moment <= end + timedelta(hours=6):
        offsets.add(moment.astimezone(zone).utcoffset())  # type: ignore[arg-type]
        moment += timedelta(hours=6)
    return len(offsets) > 1


def _apscheduler_skipped(
    theirs: object,
    previous: datetime | None,
    now: datetime,
    got: datetime | None,
    expected: datetime | None,
) -> bool:
    """Known APScheduler 3.11 bug: a fire time skipped across a DST change.

    Its ``_increment_field_value`` adds a *wall-clock* difference in *UTC*, so crossing a
    DST change lands an hour off (e.g. ``month='*'`` in Berlin: 1 Mar 00:00 -> 1 Apr 01:00
    CEST, so it moves on to 1 May). We accept our earlier answer only when a DST change lies
    between the search start and APScheduler's answer, and APScheduler itself confirms our
    time is a match (asked for the next fire time at exactly that instant, it returns it).
    """
    if got is None or (expected is not None and got >= expected):
        return False
    start = previous if previous is not None else now
    if not _dst_change_between(got.tzinfo, start, expected or got):
        return False  # no DST change in between: a real disagreement
    confirmed = theirs.get_next_fire_time(None, got)  # type: ignore[attr-defined]
    return confirmed is not None and _instant(confirmed) == _instant(got)


def _interval_fold_bug(
    theirs: ApsInterval, now: datetime, got: datetime | None, expected: datetime | None
) -> bool:
    """Known APScheduler 3.11 bug: ``start_date > now`` compares wall clocks.

    Both datetimes share the zone, so Python ignores ``fold``: during a repeated hour
    APScheduler then answers a time before ``start_date`` or before ``now``. We return the
    first grid point at or after both. Intended difference (docs/triggers.md).
    """
    if got is None or expected is None:
        return False
    start: datetime = theirs.start_date.astimezone(UTC)
    wrong = _instant(expected) < start or _instant(expected) < now.astimezone(UTC)  # type: ignore[operator]
    if not wrong or not (now.fold or theirs.start_date.fold):
        return False
    step: timedelta = theirs.interval
    offset = got.astimezone(UTC) - start
    return offset >= timedelta(0) and offset % step == timedelta(0) and got - step < max(start, now)


def _gap_time_moved_forward(
    theirs: ApsCron, got: datetime | None, expected: datetime | None
) -> bool:
    """Known APScheduler 3.11 inconsistency: matches inside a DST gap.

    We always fire a matching wall time that falls in a gap at that wall time + the gap
    length. APScheduler does so only on some code paths; on others (e.g. Lord Howe's
    30-minute gap, ``hour='*'``: 02:00 becomes 02:30, which no longer matches minute 0)
    it skips the match. We accept ours when it is earlier and is exactly such a shifted
    gap time whose wall clock APScheduler's own fields accept.
    """
    if got is None or (expected is not None and got >= expected):
        return False
    zone = got.tzinfo
    before = (got.astimezone(UTC) - timedelta(hours=3)).astimezone(zone).utcoffset()
    after = got.utcoffset()
    if before is None or after is None or after <= before:
        return False
    wall = got.replace(tzinfo=None) - (after - before)
    if wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return False  # the wall time exists: not a gap time
    return all(field.get_next_value(wall) == field.get_value(wall) for field in theirs.fields)


def _wall_time_exists(moment: datetime) -> bool:
    wall = moment.replace(tzinfo=None)
    zone = moment.tzinfo
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _real_match_before_gap_time(
    theirs: ApsCron, got: datetime | None, expected: datetime | None
) -> bool:
    """Known APScheduler 3.11 behaviour: it answers a wall time that does not exist (in
    Lord Howe's 30-minute gap, ``minute='1-30'``: ``02:01+10:30``, and again on every later
    call) although a real wall time that matches comes first (``02:30+11:00``). We accept
    ours when it is earlier, exists, and APScheduler's own fields accept its wall clock.
    """
    if got is None or expected is None or got.astimezone(UTC) >= expected.astimezone(UTC):
        return False
    if _wall_time_exists(expected) or not _wall_time_exists(got):
        return False
    wall = got.replace(tzinfo=None)
    return all(field.get_next_value(wall) == field.get_value(wall) for field in theirs.fields)


def _repeated_hour_skipped(
    theirs: ApsCron, got: datetime | None, expected: datetime | None
) -> bool:
    """Intended difference: when the clock falls back, a job whose hour field is not ``*``
    fires at the first occurrence of a repeated wall time only (cron's rule), while
    APScheduler may fire at the second one. Accept ours when APScheduler's time is such a
    second occurrence."""
    if expected is None or (got is not None and got <= expected):
        return False
    hour_field = next(field for field in theirs.fields if field.name == "hour")
    if str(hour_field) == "*":
        return False
    zone = expected.tzinfo
    local = expected.astimezone(zone)
    wall = local.replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return first < second and _instant(expected) == second


def _chain(
    ours: CronTrigger | DateTrigger | IntervalTrigger,
    theirs: ApsCron | ApsDate | ApsInterval,
    now: datetime,
    steps: int = STEPS,
) -> None:
    previous_ours: datetime | None = None
    previous_theirs: datetime | None = None
    for step in range(steps):
        got = ours.next_fire_time(previous_ours, now)
        expected = theirs.get_next_fire_time(previous_theirs, now)
        while (
            expected is not None
            and previous_theirs is not None
            and _instant(expected) <= _instant(previous_theirs)  # type: ignore[operator]
        ):
            # Known APScheduler 3.11 bug: after a fire time inside a DST gap (returned as a
            # non-existent wall time such as 02:00+01:00) it can return the same instant
            # again under its real name (03:00+02:00). We never repeat an instant.
            previous_theirs = expected
            expected = theirs.get_next_fire_time(expected, expected)
        if (
            _instant(got) != _instant(expected)
            and isinstance(theirs, ApsCron)
            # Intended differences, see docs/triggers.md "Differences from APScheduler".
            and (
                _apscheduler_skipped(theirs, previous_theirs, now, got, expected)
                or _gap_time_moved_forward(theirs, got, expected)
                or _real_match_before_gap_time(theirs, got, expected)
                or _repeated_hour_skipped(theirs, got, expected)
            )
        ):
            expected = got  # resynchronise the oracle on our (valid) fire time
        if isinstance(theirs, ApsInterval) and _interval_fold_bug(theirs, now, got, expected):
            expected = got
        assert _instant(got) == _instant(expected), (step, previous_ours, got, expected)
        if got is None:
            return
        # Ours are always expressed in the trigger's zone (and normalised).
        assert got.tzinfo == ours.timezone
        assert got == got.astimezone(UTC).astimezone(got.tzinfo)
        previous_ours, previous_theirs = got, expected
        now = got


@settings(max_examples=1500)
@given(fields=cron_fields(), zone=zones, now=instants(), start_offset=st.integers(-3, 3))
def test_cron_matches_apscheduler(
    fields: dict[str, str], zone: ZoneInfo, now: datetime, start_offset: int
) -> None:
    # A start date (sometimes after now) exercises the start bound; an end date a few years
    # out keeps APScheduler from searching to year 9999 for rare expressions.
    start = (now + timedelta(hours=start_offset * 7)).astimezone(zone)
    end = (now + timedelta(days=4 * 366)).astimezone(zone)
    ours = CronTrigger(**fields, timezone=zone, start_date=start, end_date=end)  # type: ignore[arg-type]
    theirs = ApsCron(**fields, timezone=zone, start_date=start, end_date=end)
    _chain(ours, theirs, now.astimezone(zone))


@settings(max_examples=300)
@given(fields=cron_fields(), zone=zones, now=instants())
@example(  # found by hypothesis: a real match (02:30) right after a 30-minute gap
    fields={"hour": "*/2", "minute": "1-30,1-2"},
    zone=ZoneInfo("Australia/Lord_Howe"),
    now=datetime(2026, 10, 3, 15, 29, 59, tzinfo=UTC),
)
def test_cron_without_bounds_matches_apscheduler(
    fields: dict[str, str], zone: ZoneInfo, now: datetime
) -> None:
    fields.pop("year", None)
    fields.pop("week", None)  # rare week/day combinations make APScheduler crawl for years
    ours = CronTrigger(**fields, timezone=zone)  # type: ignore[arg-type]
    theirs = ApsCron(**fields, timezone=zone)
    _chain(ours, theirs, now, steps=3)


@settings(max_examples=800)
@given(
    zone=zones,
    start=instants(),
    now=instants(),
    length=st.one_of(
        st.integers(1, 600),
        st.integers(601, 10 * 86400),
        st.sampled_from([3600, 86400, 7 * 86400, 1800, 90 * 60]),
    ),
    naive_start=st.booleans(),
)
def test_interval_matches_apscheduler(
    zone: ZoneInfo, start: datetime, now: datetime, length: int, naive_start: bool
) -> None:
    start_date = start.astimezone(zone)
    if naive_start:
        # Naive start dates are wall-clock times in the zone (gap -> forward, fold -> first).
        start_date = start_date.replace(tzinfo=None)
    ours = IntervalTrigger(seconds=length, start_date=start_date, timezone=zone)
    theirs = ApsInterval(seconds=length, start_date=start_date, timezone=zone)
    assert _instant(ours.start_date) == _instant(theirs.start_date)
    _chain(ours, theirs, now.astimezone(zone), steps=5)


@settings(max_examples=300)
@given(zone=zones, run=instants(), now=instants(), naive=st.booleans(), as_text=st.booleans())
def test_date_matches_apscheduler(
    zone: ZoneInfo, run: datetime, now: datetime, naive: bool, as_text: bool
) -> None:
    run_date: datetime | str = run.astimezone(zone)
    if naive:
        run_date = run.astimezone(zone).replace(tzinfo=None, microsecond=0)
        if as_text:
            run_date = run_date.isoformat(sep=" ")
    ours = DateTrigger(run_date, timezone=zone)
    theirs = ApsDate(run_date, timezone=zone)
    _chain(ours, theirs, now, steps=2)


@settings(max_examples=300)
@given(
    zone=zones,
    start=instants(),
    offset=st.floats(0.001, 50 * 86400, allow_nan=False),
    length=st.one_of(st.integers(1, 600), st.sampled_from([3600, 86400, 90 * 60])),
)
def test_interval_continues_from_an_explicit_next_run_time_as_apscheduler(
    zone: ZoneInfo, start: datetime, offset: float, length: int
) -> None:
    # "Run now, then every N": the job's first fire is off the grid; APScheduler counts the
    # next ones from it (previous + interval), and so must we.
    start_date = start.astimezone(zone)
    explicit = start_date + timedelta(seconds=offset)
    ours = IntervalTrigger(seconds=length, start_date=start_date, timezone=zone).continued_from(
        explicit
    )
    theirs = ApsInterval(seconds=length, start_date=start_date, timezone=zone)
    previous_ours = previous_theirs = explicit
    for _ in range(STEPS):
        got = ours.next_fire_time(previous_ours, previous_ours)
        expected = theirs.get_next_fire_time(previous_theirs, previous_theirs)
        assert got is not None
        if not _dst_change_between(zone, previous_ours, got):
            # (across a DST change APScheduler adds wall-clock time: a known 3.11 bug)
            assert _instant(got) == _instant(expected)
        assert got.astimezone(UTC) - previous_ours.astimezone(UTC) == timedelta(seconds=length)
        previous_ours = previous_theirs = got  # resynchronised after a known difference
