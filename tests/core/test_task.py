from __future__ import annotations

import re

from vidtask.core.task import (
    ACTIVE,
    LEASED,
    MOVES,
    TERMINAL,
    TRANSITIONS,
    Status,
    Task,
    TaskSpec,
    can_transition,
    clamp_progress,
    new_task_id,
)


def test_ids_are_unguessable_and_well_formed() -> None:
    ids = {new_task_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"vt_[a-z2-7]{26}", i) for i in ids)


def test_progress_never_decreases_and_is_bounded() -> None:
    assert clamp_progress(40, 30) == 40
    assert clamp_progress(40, 55.5) == 55.5
    assert clamp_progress(40, 250) == 100
    assert clamp_progress(0, -5) == 0


def test_terminal_statuses_have_no_way_out() -> None:
    for status in TERMINAL:
        assert status.terminal
        assert TRANSITIONS[status] == frozenset()
        assert not any(can_transition(status, other) for other in Status)


def test_legal_transitions() -> None:
    assert can_transition(Status.QUEUED, Status.IN_PROGRESS)
    assert can_transition(Status.QUEUED, Status.CANCELLED)
    assert can_transition(Status.IN_PROGRESS, Status.QUEUED)  # requeue after a lost worker
    assert can_transition(Status.IN_PROGRESS, Status.COMPLETED)
    assert not can_transition(Status.QUEUED, Status.COMPLETED)
    assert not Status.IN_PROGRESS.terminal


def test_transitions_are_the_moves_of_the_store() -> None:
    queued, running = Status.QUEUED, Status.IN_PROGRESS
    assert TRANSITIONS == {
        queued: frozenset({running, Status.CANCELLED, Status.FAILED}),
        running: frozenset({queued, *TERMINAL}),
        **{status: frozenset() for status in TERMINAL},
    }
    assert MOVES["claim"].sources == {queued} and MOVES["claim"].targets == LEASED
    assert MOVES["cancel"].sources == {queued}  # a leased task is cancelled by its worker
    assert MOVES["expire"].sources == ACTIVE
    assert all(
        move.sources <= LEASED
        for name, move in MOVES.items()
        if name in {"finish", "release", "recover"}
    )


def test_create_starts_queued_at_version_one() -> None:
    spec = TaskSpec(model="timeline", input={"a": 1}, priority=5, idempotency_key="k")
    task = Task.create(spec, owner="key_1", now=100.0)
    assert (task.status, task.stage, task.progress, task.version) == (Status.QUEUED, "queued", 0, 1)
    assert task.priority == 5 and task.idempotency_key == "k" and task.owner == "key_1"
    assert task.created_at == task.updated_at == 100.0
    assert task.evolve(progress=10).progress == 10
