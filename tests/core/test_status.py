from __future__ import annotations

import pytest

from vidtask.core import errors
from vidtask.core.status import ERROR_NUMBERS, STATUS_TABLE, Dialect, dialect_status, error_number
from vidtask.core.task import Status


def test_every_dialect_maps_every_status() -> None:
    for dialect in Dialect:
        assert set(STATUS_TABLE[dialect]) == set(Status)


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (Dialect.NEWAPI, ["queued", "in_progress", "completed", "failed", "failed"]),
        (Dialect.OPENAI, ["queued", "in_progress", "completed", "failed", "failed"]),
        (Dialect.ARK, ["queued", "running", "succeeded", "failed", "cancelled"]),
        (Dialect.DOUBAO_MCP, ["pending", "processing", "success", "failed", "failed"]),
        (Dialect.SCENEXT, ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED", "FAILED", "FAILED"]),
        (Dialect.CAPCUT_MATE, ["pending", "processing", "completed", "failed", "failed"]),
    ],
)
def test_design_table(dialect: Dialect, expected: list[str]) -> None:
    order = [Status.QUEUED, Status.IN_PROGRESS, Status.COMPLETED, Status.FAILED, Status.CANCELLED]
    assert [dialect_status(dialect, s) for s in order] == expected


def test_ark_reports_expired() -> None:
    assert dialect_status(Dialect.ARK, Status.FAILED, "expired") == "expired"
    assert dialect_status(Dialect.ARK, Status.FAILED, "render_failed") == "failed"
    assert dialect_status(Dialect.NEWAPI, Status.FAILED, "expired") == "failed"


def test_every_canonical_code_has_a_number() -> None:
    assert set(ERROR_NUMBERS) == set(errors.CODES)
    assert error_number("not_found") == 404
    assert error_number("something_new") == 500
