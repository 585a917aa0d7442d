"""The store's status guards are ``core.task.MOVES``: each operation that changes a status, tried
on a task in each status, applies exactly when core lists that status among its sources, and
leaves the task in one of its targets. On a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vidtask.core.task import LEASED, MOVES, TERMINAL, TRANSITIONS, Status, Task, TaskSpec
from vidtask.store.base import Fence, TaskStore

OWNER = "alice"


def in_status(store: TaskStore, status: Status) -> tuple[Task, Fence]:
    """A task (the store's only one) in ``status``, and the fence of its worker (if any)."""
    spec = TaskSpec(model="timeline", input={}, expires_after_s=10.0)
    task, _ = store.create(Task.create(spec, owner=OWNER, now=1.0))
    if status is Status.QUEUED:
        return task, Fence(task.id, "w", 1)
    claimed = store.claim("w", ("timeline",), 2.0, 1000.0)
    assert claimed is not None
    fence = Fence(task.id, "w", claimed.attempt)
    if status is not Status.IN_PROGRESS:
        assert store.finish(fence, 3.0, status, result={}, error={"code": "x", "message": "x"})
    found = store.get(task.id)
    assert found is not None and found.status is status
    return found, fence


Operation = Callable[[TaskStore, Task, Fence], bool]


def _cancel(store: TaskStore, task: Task, fence: Fence) -> bool:
    after = store.request_cancel(task.id, OWNER, 5.0)
    # (a leased task is only flagged: its worker finishes it as cancelled)
    return after is not None and after.status is Status.CANCELLED and after.version > task.version


MOVE_OPERATIONS: dict[str, Operation] = {
    "claim": lambda store, task, fence: store.claim("w2", ("timeline",), 5.0, 30.0) is not None,
    "cancel": _cancel,
    "finish": lambda store, task, fence: store.finish(fence, 5.0, Status.COMPLETED, result={}),
    "release": lambda store, task, fence: store.release(fence, 5.0),
    "recover": lambda store, task, fence: bool(store.recover(5.0, everything=True)),
    "expire": lambda store, task, fence: bool(store.expire_overdue(100.0)),
}


def test_every_move_is_tried() -> None:
    assert set(MOVE_OPERATIONS) == set(MOVES)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_move_applies_exactly_to_its_sources(store: TaskStore, move: str, status: Status) -> None:
    task, fence = in_status(store, status)
    applied = MOVE_OPERATIONS[move](store, task, fence)
    after = store.get(task.id)
    assert after is not None
    assert applied == (status in MOVES[move].sources), (move, status)
    if applied:
        assert after.status in MOVES[move].targets
        assert after.status in TRANSITIONS[status]
        assert after.version > task.version
    else:
        assert after.status is status


@pytest.mark.parametrize("status", list(Status))
def test_fenced_writes_need_a_leased_status(store: TaskStore, status: Status) -> None:
    task, fence = in_status(store, status)
    assert (store.heartbeat(fence, 5.0, 30.0) is not None) == (status in LEASED)
    assert store.report(fence, 5.0, 30.0, progress=50.0) == (status in LEASED)
    assert store.checkpoint(fence, 5.0, {"ref": 1}) == (status in LEASED)


@pytest.mark.parametrize("status", list(Status))
def test_only_terminal_tasks_are_deleted(store: TaskStore, status: Status) -> None:
    task, _ = in_status(store, status)
    assert store.delete(task.id, OWNER) == (status in TERMINAL)
