"""The task event log: written by triggers on every version, replayable, prunable (SQLite and
PostgreSQL)."""

from __future__ import annotations

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.base import Fence, TaskStore


def test_every_version_is_logged_once_and_heartbeats_are_not(store: TaskStore) -> None:
    task, _ = store.create(Task.create(TaskSpec("timeline", {}), owner="k", now=100.0))
    claimed = store.claim("w", ("timeline",), 101.0, 30)
    assert claimed is not None
    fence = Fence(task.id, "w", claimed.attempt)
    store.heartbeat(fence, 102.0, 30)  # not a visible change
    store.report(fence, 103.0, 30, stage="rendering", progress=40)
    store.finish(fence, 104.0, Status.COMPLETED, result={"video": "video.mp4"})

    changes = store.events_since(0)
    assert [c.version for c in changes] == [1, 2, 3, 4]
    assert [c.status for c in changes] == [
        Status.QUEUED,
        Status.IN_PROGRESS,
        Status.IN_PROGRESS,
        Status.COMPLETED,
    ]
    history = store.task_history(task.id, "k", 0)
    assert [(t.version, t.stage, t.progress) for t in history] == [
        (1, "queued", 0.0),
        (2, "starting", 0.0),
        (3, "rendering", 40.0),
        (4, "done", 100.0),
    ]
    assert history[2].result is None and history[3].result == {"video": "video.mp4"}
    assert store.task_history(task.id, "someone-else", 0) == []
    assert store.event_at(changes[1].seq).status is Status.IN_PROGRESS  # type: ignore[union-attr]
    assert store.events_since(changes[1].seq, owner="k")[0].version == 3
    assert store.events_since(0, owner="other") == []


def test_prune_keeps_recent_events_and_those_not_yet_relayed(store: TaskStore) -> None:
    for i in range(4):
        store.create(Task.create(TaskSpec("timeline", {}), owner="k", now=100.0 + i))
    seqs = [c.seq for c in store.events_since(0)]
    # older than 102.5: the first three; but the relay has only passed the first two
    assert store.prune_events(before=102.5, keep_from_seq=seqs[2]) == 2
    assert [c.seq for c in store.events_since(0)] == seqs[2:]
    assert store.last_event_seq() == seqs[-1]
