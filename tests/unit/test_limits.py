"""The limits module: the walkers refuse without recursing, and the schema agrees."""

from __future__ import annotations

from typing import Any

import pytest

from tickwork.exceptions import InvalidJobError
from tickwork.limits import MAX_ID_LENGTH, MAX_JSON_DEPTH, check_job_id, check_json_shape
from tickwork.store.schema import jobs_table, runs_table


def test_id_columns_hold_the_longest_id() -> None:
    assert jobs_table.c.id.type.length == MAX_ID_LENGTH  # type: ignore[attr-defined]
    assert runs_table.c.job_id.type.length == MAX_ID_LENGTH  # type: ignore[attr-defined]


def test_depth_is_checked_without_recursion() -> None:
    value: Any = "leaf"
    for _ in range(100_000):  # far deeper than Python's recursion limit
        value = {"k": [value]}
    with pytest.raises(InvalidJobError, match=f"more than {MAX_JSON_DEPTH} levels") as raised:
        check_json_shape("kwargs", value)
    assert raised.value.field == "kwargs"


def test_the_deepest_allowed_value_passes() -> None:
    value: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        value = [value]
    check_json_shape("args", value)
    with pytest.raises(InvalidJobError):
        check_json_shape("args", [value])


@pytest.mark.parametrize("text", ["a\x00", "\ud800", "x\udfffy"])
def test_unstorable_text_is_refused_in_keys_and_values(text: str) -> None:
    for value in ([text], {text: 1}, {"k": {"j": text}}):
        with pytest.raises(InvalidJobError) as raised:
            check_json_shape("args", value)
        assert raised.value.field == "args"


@pytest.mark.parametrize(
    "job_id", ["a/b", "/", ".", "..", "tab\there", "del\x7f", "\ud800", "x" * (MAX_ID_LENGTH + 1)]
)
def test_unaddressable_ids_are_refused(job_id: str) -> None:
    with pytest.raises(InvalidJobError) as raised:
        check_job_id(job_id)
    assert raised.value.field == "id"


@pytest.mark.parametrize("job_id", ["report", "a.b:c", "...", "x" * MAX_ID_LENGTH, "ünï cödé ?#%"])
def test_addressable_ids_pass(job_id: str) -> None:
    check_job_id(job_id)
