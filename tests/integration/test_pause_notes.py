"""Pause with a note (issue 14, item 6), through the Python API, on both backends: the note,
who paused and when are stored on the job, kept by other edits while it stays paused,
cleared by whatever schedules it again; bad notes leave the job as it was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickwork import ManualClock, Scheduler
from tickwork.exceptions import InvalidJobError, JobLookupError
from tickwork.job import Job
from tickwork.limits import MAX_PAUSE_NOTE_CHARS, MAX_REQUESTER_CHARS

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def clocked(make_scheduler: Callable[..., Scheduler]) -> Scheduler:
    scheduler = make_scheduler(clock=ManualClock(T0))
    scheduler.add_job(id="j", func="tests.jobs:record", trigger="interval", minutes=5)
    return scheduler


def _pause_fields(job: Job | None) -> tuple[str | None, str | None, datetime | None]:
    assert job is not None
    return job.paused_note, job.paused_by, job.paused_at


def test_the_note_who_and_when_are_stored_and_seen_by_every_node(
    clocked: Scheduler, make_scheduler: Callable[..., Scheduler]
) -> None:
    paused = clocked.pause_job("j", note="waiting for the DB migration", requested_by="alice")

    assert paused.next_run_time is None
    assert _pause_fields(paused) == ("waiting for the DB migration", "alice", T0)
    other_node = make_scheduler()
    assert _pause_fields(other_node.get_job("j")) == _pause_fields(paused)
    assert paused.to_dict()["paused_at"] == T0.isoformat()


def test_other_edits_keep_the_note_while_the_job_stays_paused(clocked: Scheduler) -> None:
    clocked.pause_job("j", note="why", requested_by="alice")
    clocked.modify_job("j", name="renamed", max_instances=3, args=[1])
    clocked.modify_job("j", next_run_time=None)
    job = clocked.get_job("j")
    assert job is not None
    assert (job.name, job.max_instances, job.args) == ("renamed", 3, (1,))
    assert _pause_fields(job) == ("why", "alice", T0)


@pytest.mark.parametrize(
    "schedule",
    [
        lambda s: s.resume_job("j"),
        lambda s: s.reschedule_job("j", trigger="interval", minutes=1),
        lambda s: s.modify_job("j", next_run_time=T0 + timedelta(hours=1)),
        lambda s: s.modify_job("j", minutes=10, trigger="interval"),
    ],
    ids=["resume", "reschedule", "next_run_time", "new trigger"],
)
def test_whatever_schedules_the_job_again_clears_the_note(
    clocked: Scheduler, schedule: Callable[[Scheduler], Job]
) -> None:
    clocked.pause_job("j", note="why", requested_by="alice")
    job = schedule(clocked)
    assert job.next_run_time is not None
    assert _pause_fields(job) == (None, None, None)
    assert _pause_fields(clocked.get_job("j")) == (None, None, None)


def test_each_pause_records_its_own_note(clocked: Scheduler) -> None:
    assert isinstance(clocked.clock, ManualClock)
    clocked.pause_job("j", note="first", requested_by="alice")
    clocked.clock.advance(60)
    again = clocked.pause_job("j")
    assert _pause_fields(again) == (None, None, T0 + timedelta(seconds=60))
    assert _pause_fields(clocked.pause_job("j", note="")) == (
        None,  # an empty note is no note
        None,
        T0 + timedelta(seconds=60),
    )


def test_job_pause_and_the_apscheduler_signature_still_work(clocked: Scheduler) -> None:
    job = clocked.get_job("j")
    assert job is not None
    assert _pause_fields(job.pause(note="from the job object"))[0] == "from the job object"
    assert clocked.pause_job("j", None).paused_note is None  # pause_job(job_id, jobstore)
    with pytest.raises(TypeError):
        clocked.pause_job("j", None, "positional note")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"note": 5}, "note"),
        ({"note": b"bytes"}, "note"),
        ({"note": ["a"]}, "note"),
        ({"note": "nul \x00"}, "note"),
        ({"note": "\ud800"}, "note"),
        ({"note": "two\nlines"}, "note"),
        ({"note": "\x1b[31mred"}, "note"),
        ({"note": "\u202eevil"}, "note"),
        ({"note": "x" * (MAX_PAUSE_NOTE_CHARS + 1)}, "note"),
        ({"requested_by": 1}, "requested_by"),
        ({"requested_by": "a\tb"}, "requested_by"),
        ({"requested_by": "x" * (MAX_REQUESTER_CHARS + 1)}, "requested_by"),
    ],
)
def test_a_bad_note_is_refused_naming_the_field_and_the_job_is_unchanged(
    clocked: Scheduler, arguments: dict[str, Any], field: str
) -> None:
    before = clocked.get_job("j")
    with pytest.raises(InvalidJobError) as caught:
        clocked.pause_job("j", **arguments)
    assert caught.value.field == field
    assert clocked.get_job("j") == before


def test_a_paused_jobs_note_survives_a_refused_second_pause(clocked: Scheduler) -> None:
    clocked.pause_job("j", note="kept")
    with pytest.raises(InvalidJobError):
        clocked.pause_job("j", note="\x07")
    assert _pause_fields(clocked.get_job("j")) == ("kept", None, T0)


def test_the_longest_note_and_any_readable_text_are_kept(clocked: Scheduler) -> None:
    longest = "é" * MAX_PAUSE_NOTE_CHARS
    assert clocked.pause_job("j", note=longest).paused_note == longest
    text = 'Ждём миграцию — 待つ 🛠 "quotes" <b>not markup</b>'
    assert clocked.pause_job("j", note=text, requested_by="Zoë").paused_note == text
    assert _pause_fields(clocked.get_job("j"))[:2] == (text, "Zoë")


def test_pausing_a_missing_job_is_a_lookup_error(clocked: Scheduler) -> None:
    with pytest.raises(JobLookupError):
        clocked.pause_job("nope", note="why")
