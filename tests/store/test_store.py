"""Behaviour of the store protocol: the same tests against a real SQLite file and a real
PostgreSQL database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.base import Fence, TaskFilter, TaskStore
from vidtask.store.sqlite import SQLiteStore


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "vidtask.db")


def make(store: TaskStore, now: float = 100.0, **spec: object) -> Task:
    fields = {"model": "timeline", "input": {"n": now}, **spec}
    task, created = store.create(Task.create(TaskSpec(**fields), owner="alice", now=now))  # type: ignore[arg-type]
    assert created
    return task


def claim(store: TaskStore, worker: str = "w1", now: float = 200.0) -> Task:
    task = store.claim(worker, ("timeline",), now, 10.0)
    assert task is not None
    return task


def test_schema_is_migrated_in_wal_mode_with_indexes(sqlite_store: SQLiteStore) -> None:
    store = sqlite_store
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"tasks_owner_status_seq", "tasks_owner_model_seq", "tasks_queue"} <= indexes
    SQLiteStore(store.path)  # migrating twice is a no-op


def test_list_query_uses_an_index(sqlite_store: SQLiteStore) -> None:
    store = sqlite_store
    plan = (
        store._conn()
        .execute(
            "EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE owner = ? AND status IN (?) "
            "ORDER BY seq DESC LIMIT 21",
            ("alice", "queued"),
        )
        .fetchall()
    )
    assert any("USING INDEX tasks_owner_status_seq" in row[3] for row in plan)


def test_create_get_and_owner_isolation(store: TaskStore) -> None:
    task = make(store)
    assert store.get(task.id) == task
    assert store.get(task.id, "alice") == task
    assert store.get(task.id, "mallory") is None


def test_idempotency_key_returns_the_first_task(store: TaskStore) -> None:
    first = make(store, idempotency_key="k1", request_hash="h")
    again, created = store.create(
        Task.create(TaskSpec("timeline", {}, idempotency_key="k1"), owner="alice", now=1)
    )
    assert not created and again.id == first.id
    other, created = store.create(
        Task.create(TaskSpec("timeline", {}, idempotency_key="k1"), owner="bob", now=1)
    )
    assert created and other.id != first.id


def test_claim_takes_highest_priority_then_oldest(store: TaskStore) -> None:
    low = make(store, now=1)
    high = make(store, now=2, priority=10)
    low2 = make(store, now=3)
    order = [claim(store, f"w{i}").id for i in range(3)]
    assert order == [high.id, low.id, low2.id]
    assert store.claim("w9", ("timeline",), 300, 10) is None


def test_claim_only_serves_its_models(store: TaskStore) -> None:
    make(store, model="slides")
    assert store.claim("w1", ("timeline",), 1, 10) is None
    assert store.claim("w1", ("slides",), 1, 10) is not None


def test_claim_leases_and_bumps_version_and_attempt(store: TaskStore) -> None:
    task = make(store)
    running = claim(store, now=200)
    assert running.status is Status.IN_PROGRESS and running.attempt == 1
    assert running.lease_owner == "w1" and running.lease_expires_at == 210
    assert running.started_at == 200 and running.version == task.version + 1


def test_progress_never_decreases_and_extends_lease(store: TaskStore) -> None:
    make(store)
    task = claim(store)
    fence = Fence(task.id, "w1", 1)
    versions = [task.version]
    for progress, expected in [(30, 30), (20, 30), (55, 55), (150, 100)]:
        assert store.report(fence, 205, 10, stage="rendering", progress=progress)
        current = store.get(task.id)
        assert current is not None and current.progress == expected
        versions.append(current.version)
    assert versions == sorted(set(versions))  # strictly increasing
    assert current is not None
    assert current.lease_expires_at == 215 and current.stage == "rendering"


def test_stale_worker_writes_change_nothing(store: TaskStore) -> None:
    make(store)
    task = claim(store)
    store.recover(500, worker_id="w1")  # presumed dead: requeued
    again = claim(store, "w2", now=501)
    assert again.attempt == 2
    stale = Fence(task.id, "w1", 1)
    before = store.get(task.id)
    assert not store.report(stale, 502, 10, progress=99)
    assert store.heartbeat(stale, 502, 10) is None
    assert not store.finish(stale, 502, Status.COMPLETED, result={"video": "x"})
    assert store.get(task.id) == before


def test_terminal_status_is_written_once(store: TaskStore) -> None:
    make(store)
    task = claim(store)
    fence = Fence(task.id, "w1", 1)
    assert store.finish(fence, 300, Status.COMPLETED, result={"video": "1/video.mp4"})
    assert not store.finish(fence, 301, Status.FAILED, error={"code": "x", "message": "y"})
    done = store.get(task.id)
    assert done is not None and done.status is Status.COMPLETED and done.progress == 100
    assert done.result == {"video": "1/video.mp4"} and done.completed_at == 300
    assert done.lease_owner is None
    with pytest.raises(ValueError):
        store.finish(fence, 1, Status.IN_PROGRESS)


def test_cancel_queued_is_immediate(store: TaskStore) -> None:
    task = make(store)
    cancelled = store.request_cancel(task.id, "alice", 150)
    assert cancelled is not None and cancelled.status is Status.CANCELLED
    assert cancelled.error == {"code": "cancelled", "message": "the task was cancelled"}
    assert store.claim("w1", ("timeline",), 200, 10) is None
    assert store.request_cancel(task.id, "mallory", 150) is None


def test_cancel_running_flags_it_for_the_worker(store: TaskStore) -> None:
    make(store)
    task = claim(store)
    flagged = store.request_cancel(task.id, "alice", 210)
    assert flagged is not None and flagged.status is Status.IN_PROGRESS and flagged.cancel_requested
    assert store.overdue_cancels(212, 5) == []
    assert [t.id for t in store.overdue_cancels(216, 5)] == [task.id]
    # A worker that never answers: recovery ends it cancelled, never requeued.
    (lost,) = store.recover(300, worker_id="w1")
    assert lost.status is Status.CANCELLED and lost.stage == "cancelled"


def test_recover_requeues_while_attempts_remain_then_fails(store: TaskStore) -> None:
    make(store, max_attempts=2)
    task = claim(store)
    (requeued,) = store.recover(250, worker_id="w1")
    assert requeued.status is Status.QUEUED and requeued.stage == "queued"
    assert requeued.error is None
    claim(store, "w2", now=260)
    assert store.recover(261) == []  # lease still valid
    (failed,) = store.recover(271)  # lease expired
    assert failed.status is Status.FAILED and failed.attempt == 2
    assert failed.error is not None and failed.error["code"] == "worker_lost"
    assert store.get(task.id) == failed


def test_recover_everything_after_a_server_crash(store: TaskStore) -> None:
    make(store)
    make(store)
    claim(store, "w1")
    claim(store, "w2")
    recovered = store.recover(220, everything=True)
    assert sorted(t.status for t in recovered) == [Status.QUEUED, Status.QUEUED]


def test_release_hands_back_without_using_an_attempt(store: TaskStore) -> None:
    make(store)
    task = claim(store)
    assert store.release(Fence(task.id, "w1", 1), 230)
    back = store.get(task.id)
    assert back is not None and back.status is Status.QUEUED and back.attempt == 0


def test_delete_only_terminal(store: TaskStore) -> None:
    task = make(store)
    assert not store.delete(task.id, "alice")
    store.request_cancel(task.id, "alice", 1)
    assert not store.delete(task.id, "bob")
    assert store.delete(task.id, "alice")
    assert store.get(task.id) is None


def test_list_filters_and_cursor(store: TaskStore) -> None:
    tasks = [make(store, now=float(i), model="timeline" if i % 2 else "slides") for i in range(7)]
    store.request_cancel(tasks[0].id, "alice", 10)
    page = store.list_tasks("alice", TaskFilter(limit=3))
    assert [t.id for t in page.items] == [t.id for t in reversed(tasks)][:3]
    assert page.has_more and page.next_cursor == tasks[4].id
    seen = [t.id for t in page.items]
    while page.has_more:
        page = store.list_tasks("alice", TaskFilter(limit=3, after=page.next_cursor))
        seen += [t.id for t in page.items]
    assert seen == [t.id for t in reversed(tasks)]
    assert [t.id for t in store.list_tasks("alice", TaskFilter(model="slides")).items] == [
        tasks[6].id,
        tasks[4].id,
        tasks[2].id,
        tasks[0].id,
    ]
    assert [
        t.id for t in store.list_tasks("alice", TaskFilter(statuses=(Status.CANCELLED,))).items
    ] == [tasks[0].id]
    window = store.list_tasks("alice", TaskFilter(created_after=2, created_before=4, order="asc"))
    assert [t.id for t in window.items] == [tasks[2].id, tasks[3].id]
    assert store.list_tasks("bob", TaskFilter()).items == []
    assert store.counts()["queued"] == 6 and store.counts()["cancelled"] == 1


def test_keys(store: TaskStore) -> None:
    assert not store.has_active_keys()
    key = store.create_key("key_1", "ci", "hash1", 5)
    assert store.find_key("hash1") == key and store.has_active_keys()
    assert store.revoke_key("key_1", 6) and not store.revoke_key("key_1", 7)
    assert store.find_key("hash1") is None and not store.has_active_keys()
    assert [k.revoked_at for k in store.list_keys()] == [6]


def test_renew_leases_extends_every_lease_of_a_worker_and_names_its_tasks(
    store: TaskStore,
) -> None:
    first, second, other = make(store, 100), make(store, 101), make(store, 102)
    claim(store, "relay", 200)
    claim(store, "relay", 200)
    claim(store, "w2", 200)
    assert store.renew_leases("relay", 300, 60) == {first.id, second.id}
    for task_id in (first.id, second.id):
        renewed = store.get(task_id)
        assert renewed is not None and renewed.lease_expires_at == 360
    untouched = store.get(other.id)
    assert untouched is not None and untouched.lease_expires_at == 210
    store.request_cancel(second.id, "alice", 310)
    assert store.cancels_requested("relay") == {second.id}
    assert store.cancels_requested("w2") == set()
    assert store.finish(Fence(first.id, "relay", 1), 320, Status.COMPLETED, result={})
    assert store.renew_leases("relay", 330, 60) == {second.id}
