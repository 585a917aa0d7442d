"""`TaskStore.checkpoint`: a running attempt saves an external reference on its task, fenced
like every worker write; the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.base import Fence, TaskStore


def running(store: TaskStore, **ref: object) -> tuple[Task, Fence]:
    spec = TaskSpec("timeline", {}, external_ref={"requested_model": "sora-2", **ref})
    store.create(Task.create(spec, owner="alice", now=100))
    task = store.claim("w1", ("timeline",), 200, 10)
    assert task is not None
    return task, Fence(task.id, "w1", task.attempt)


def test_a_checkpoint_merges_into_external_ref_and_bumps_the_version(store: TaskStore) -> None:
    task, fence = running(store)
    assert store.checkpoint(fence, 205, {"provider": "ark", "job_id": "cgt-1"})
    saved = store.get(task.id)
    assert saved is not None
    assert saved.external_ref == {
        "requested_model": "sora-2",
        "checkpoint": {"provider": "ark", "job_id": "cgt-1"},
    }
    assert (saved.version, saved.updated_at) == (task.version + 1, 205)
    assert saved.lease_expires_at == task.lease_expires_at  # a checkpoint is not a heartbeat
    assert saved.status is Status.IN_PROGRESS and saved.stage == task.stage
    assert store.task_history(task.id, "alice", task.version)[-1].version == saved.version


def test_later_checkpoints_replace_their_own_keys_only(store: TaskStore) -> None:
    task, fence = running(store)
    assert store.checkpoint(fence, 205, {"job_id": "cgt-1", "poll": {"after": 5}, "note": "a"})
    assert store.checkpoint(fence, 206, {"job_id": "cgt-2", "poll": {"every": 2}, "note": None})
    saved = store.get(task.id)
    assert saved is not None and saved.version == task.version + 2
    # Shallow on both engines: a nested object is replaced, a null is stored as null.
    assert saved.external_ref["checkpoint"] == {
        "job_id": "cgt-2",
        "poll": {"every": 2},
        "note": None,
    }


def test_a_checkpoint_that_is_not_an_object_is_replaced(store: TaskStore) -> None:
    task, fence = running(store, checkpoint="legacy")
    assert store.checkpoint(fence, 205, {"job_id": "cgt-1"})
    saved = store.get(task.id)
    assert saved is not None and saved.external_ref["checkpoint"] == {"job_id": "cgt-1"}


def test_a_stale_or_finished_attempt_checkpoints_nothing(store: TaskStore) -> None:
    task, fence = running(store)
    assert not store.checkpoint(Fence(task.id, "w2", task.attempt), 205, {"job_id": "x"})
    assert not store.checkpoint(Fence(task.id, "w1", task.attempt + 1), 205, {"job_id": "x"})
    assert not store.checkpoint(Fence("vt_missing", "w1", 1), 205, {"job_id": "x"})
    assert store.finish(fence, 210, Status.COMPLETED, result={})
    assert not store.checkpoint(fence, 211, {"job_id": "late"})
    saved = store.get(task.id)
    assert saved is not None and "checkpoint" not in saved.external_ref
    recovered, fence2 = running(store)
    store.recover(1e12, worker_id="w1")  # presumed dead: requeued, its writes are refused
    assert not store.checkpoint(fence2, 300, {"job_id": "late"})
    again = store.get(recovered.id)
    assert again is not None and "checkpoint" not in again.external_ref
