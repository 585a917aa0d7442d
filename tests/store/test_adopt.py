"""``adopt``: an owner's tasks, event log, webhooks and drafts move to another owner in one
transaction, without new task versions (so without task events); and ``count_owned``.
The same tests against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.base import Fence, TaskFilter, TaskStore
from vidtask.store.drafts import DraftRecord
from vidtask.store.postgres import PostgresStore
from vidtask.store.sqlite import SQLiteStore
from vidtask.store.webhooks import Delivery, DeliveryFilter, DeliveryStatus, Endpoint
from vidtask.stores import draft_store, webhook_store

ANON = "anonymous"


def make(store: TaskStore, owner: str, now: float, key: str | None = None) -> Task:
    spec = TaskSpec("timeline", {"n": now}, idempotency_key=key)
    task, created = store.create(Task.create(spec, owner=owner, now=now))
    assert created
    return task


def test_adopt_moves_tasks_events_webhooks_and_drafts(store: TaskStore) -> None:
    hooks, drafts = webhook_store(store), draft_store(store)
    queued = make(store, ANON, 1.0)
    done = make(store, ANON, 2.0)
    bobs = make(store, "bob", 3.0)
    claimed = store.claim("w", ("timeline",), 4.0, 30)
    assert claimed is not None and claimed.id == queued.id
    store.finish(Fence(queued.id, "w", claimed.attempt), 5.0, Status.COMPLETED, result={})
    hooks.create_endpoint(Endpoint("ep_1", ANON, "https://x.test/h", "s", ("task.*",), "", 1.0))
    delivery = Delivery(
        id="dl_1",
        owner=ANON,
        task_id=queued.id,
        endpoint_id="ep_1",
        url="https://x.test/h",
        event_type="task.completed",
        payload="{}",
        status=DeliveryStatus.PENDING,
        created_at=5.0,
    )
    assert hooks.enqueue([delivery])
    drafts.create_draft(DraftRecord("d" * 24, ANON, {"width": 320}, 1.0, 1.0, task_id=done.id))
    assert store.get(queued.id, ANON) is not None  # now in the store's cache, owner and all
    versions = {t.id: store.get(t.id).version for t in (queued, done)}  # type: ignore[union-attr]
    last_seq = store.last_event_seq()

    assert store.adopt(ANON, "alice") == 2

    assert store.count_owned(ANON) == 0 and store.count_owned("alice") == 2
    for task_id, version in versions.items():
        assert store.get(task_id, ANON) is None
        moved = store.get(task_id, "alice")
        assert moved is not None and moved.owner == "alice" and moved.version == version
    page = store.list_tasks("alice", TaskFilter(order="asc"))
    assert [t.id for t in page.items] == [queued.id, done.id]
    assert store.list_tasks(ANON, TaskFilter()).items == []
    # no new task events: the relay and SSE see nothing; the old ones now belong to alice
    assert store.last_event_seq() == last_seq
    assert store.events_since(0, owner=ANON) == []
    assert {c.owner for c in store.events_since(0)} == {"alice", "bob"}
    assert len(store.events_since(0, owner="alice")) == 4  # created x2, claimed, completed
    history = store.task_history(queued.id, "alice", 0)
    assert [t.status for t in history] == [Status.QUEUED, Status.IN_PROGRESS, Status.COMPLETED]
    assert all(t.owner == "alice" for t in history)
    # webhooks and drafts went along
    assert hooks.get_endpoint(ANON, "ep_1") is None
    assert [e.id for e in hooks.list_endpoints("alice")] == ["ep_1"]
    assert hooks.get_delivery(ANON, "dl_1") is None
    found = hooks.get_delivery("alice", "dl_1")
    assert found is not None and found[0].owner == "alice"
    assert hooks.list_deliveries(ANON, DeliveryFilter()) == ([], False)
    assert drafts.get_draft("d" * 24, ANON) is None
    draft = drafts.get_draft("d" * 24, "alice")
    assert draft is not None and draft.task_id == done.id and draft.version == 1
    # someone else's are untouched
    assert store.get(bobs.id, "bob") == bobs and store.count_owned("bob") == 1


def test_adopt_clears_an_idempotency_key_the_new_owner_already_uses(store: TaskStore) -> None:
    alices = make(store, "alice", 1.0, key="k1")
    clashing = make(store, ANON, 2.0, key="k1")
    keeps = make(store, ANON, 3.0, key="k2")
    elsewhere = make(store, "bob", 4.0, key="k2")

    assert store.adopt(ANON, "alice") == 2

    cleared = store.get(clashing.id, "alice")
    assert cleared is not None and cleared.idempotency_key is None
    assert cleared.version == clashing.version
    assert store.get_by_idempotency_key("alice", "k1") == alices  # a retry finds alice's own
    kept = store.get_by_idempotency_key("alice", "k2")
    assert kept is not None and kept.id == keeps.id
    assert store.get_by_idempotency_key("bob", "k2") == elsewhere
    assert store.get_by_idempotency_key(ANON, "k1") is None
    # the key is free for anonymous again
    again, created = store.create(
        Task.create(TaskSpec("timeline", {}, idempotency_key="k1"), owner=ANON, now=5.0)
    )
    assert created and again.id not in {alices.id, clashing.id}


def test_adopt_with_nothing_to_move_or_onto_itself(store: TaskStore) -> None:
    assert store.adopt(ANON, "alice") == 0
    task = make(store, ANON, 1.0, key="k1")
    assert store.adopt(ANON, ANON) == 0  # not a clash with itself: the key stays
    assert store.get_by_idempotency_key(ANON, "k1") == task
    assert store.adopt("nobody", ANON) == 0
    assert store.count_owned(ANON) == 1 and store.count_owned("nobody") == 0


def test_count_owned_counts_every_status(store: TaskStore) -> None:
    for i in range(3):
        make(store, ANON, float(i))
    make(store, "alice", 9.0)
    claimed = store.claim("w", ("timeline",), 10.0, 30)
    assert claimed is not None
    store.finish(Fence(claimed.id, "w", claimed.attempt), 11.0, Status.FAILED, error={})
    assert store.count_owned(ANON) == 3
    assert store.count_owned("alice") == 1
    assert store.count_owned("nobody") == 0


def _fail_updates_of_drafts(store: TaskStore) -> None:
    """Make the last step of an adoption (moving the drafts) fail."""
    if isinstance(store, SQLiteStore):
        store.connection().execute(
            "CREATE TRIGGER drafts_refuse BEFORE UPDATE OF owner ON drafts"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        return
    assert isinstance(store, PostgresStore)
    with store.connection() as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'refused'; END; $$"
        )
        conn.execute("DROP TRIGGER IF EXISTS drafts_refuse ON drafts")
        conn.execute(
            "CREATE TRIGGER drafts_refuse BEFORE UPDATE OF owner ON drafts"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )


def _allow_updates_of_drafts(store: TaskStore) -> None:
    if isinstance(store, SQLiteStore):
        store.connection().execute("DROP TRIGGER drafts_refuse")
        return
    assert isinstance(store, PostgresStore)
    with store.connection() as conn:
        conn.execute("DROP TRIGGER drafts_refuse ON drafts")
        conn.execute("DROP FUNCTION test_refuse()")


def test_adopt_is_one_transaction(store: TaskStore) -> None:
    hooks, drafts = webhook_store(store), draft_store(store)
    task = make(store, ANON, 1.0, key="k1")
    make(store, "alice", 2.0, key="k1")
    hooks.create_endpoint(Endpoint("ep_1", ANON, "https://x.test/h", "s", ("task.*",), "", 1.0))
    drafts.create_draft(DraftRecord("d" * 24, ANON, {}, 1.0, 1.0))
    _fail_updates_of_drafts(store)
    try:
        with pytest.raises(
            (sqlite3.IntegrityError, psycopg.errors.RaiseException), match="refused"
        ):
            store.adopt(ANON, "alice")
    finally:
        _allow_updates_of_drafts(store)

    # nothing moved, and the clashing key was not cleared either
    assert store.count_owned(ANON) == 1 and store.count_owned("alice") == 1
    assert store.get(task.id, ANON) == task
    assert store.get_by_idempotency_key(ANON, "k1") == task
    assert [c.owner for c in store.events_since(0) if c.task_id == task.id] == [ANON]
    assert hooks.get_endpoint(ANON, "ep_1") is not None
    assert drafts.get_draft("d" * 24, ANON) is not None

    assert store.adopt(ANON, "alice") == 1  # and it goes through once nothing is in the way
    assert drafts.get_draft("d" * 24, "alice") is not None
