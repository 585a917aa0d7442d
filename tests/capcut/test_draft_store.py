"""The DraftStore contract, run against every store of ``draft_store_factory``."""

from __future__ import annotations

import threading

from tests.capcut.conftest import DraftStoreFactory
from vidtask.store.drafts import DraftRecord


def record(draft_id: str, owner: str = "key_a", **content: object) -> DraftRecord:
    return DraftRecord(draft_id, owner, {"width": 320, "height": 180, **content}, 1.0, 1.0)


def test_create_get_and_ownership(draft_store_factory: DraftStoreFactory) -> None:
    store = draft_store_factory()
    store.create_draft(record("d" * 24))
    found = store.get_draft("d" * 24, "key_a")
    assert found is not None and found.content["width"] == 320 and found.version == 1
    assert store.get_draft("d" * 24, "key_b") is None  # another key's draft does not exist
    assert store.get_draft("x" * 24, "key_a") is None


def test_update_is_compare_and_swap(draft_store_factory: DraftStoreFactory) -> None:
    store = draft_store_factory()
    store.create_draft(record("a" * 24))
    updated = store.update_draft("a" * 24, "key_a", version=1, content={"n": 1}, now=2.0)
    assert updated is not None and updated.version == 2 and updated.content == {"n": 1}
    assert store.update_draft("a" * 24, "key_a", version=1, content={"n": 9}, now=3.0) is None
    assert store.update_draft("a" * 24, "key_b", version=2, content={"n": 9}, now=3.0) is None
    current = store.get_draft("a" * 24, "key_a")
    assert current is not None and current.content == {"n": 1} and current.updated_at == 2.0


def test_task_pointer_is_compare_and_swap(draft_store_factory: DraftStoreFactory) -> None:
    store = draft_store_factory()
    store.create_draft(record("b" * 24))
    assert store.set_draft_task("b" * 24, "key_a", expected=None, task_id="vt_1", now=2.0)
    assert not store.set_draft_task("b" * 24, "key_a", expected=None, task_id="vt_2", now=2.0)
    assert store.set_draft_task("b" * 24, "key_a", expected="vt_1", task_id="vt_2", now=3.0)
    found = store.get_draft("b" * 24, "key_a")
    assert found is not None and found.task_id == "vt_2" and found.version == 3


def test_no_draft_cap_and_survives_reopen(draft_store_factory: DraftStoreFactory) -> None:
    store = draft_store_factory()
    for i in range(150):  # capcut-mate keeps at most 100 in memory
        store.create_draft(record(f"{i:024d}"))
    reopened = draft_store_factory()
    assert reopened.count_drafts("key_a") == 150
    assert reopened.get_draft(f"{0:024d}", "key_a") is not None


def test_concurrent_edits_lose_nothing(draft_store_factory: DraftStoreFactory) -> None:
    draft_id = "c" * 24
    draft_store_factory().create_draft(record(draft_id, items=[]))
    errors: list[BaseException] = []

    # Opened up front: six stores opening (and migrating) one SQLite file at once would only
    # test yoyo's migration lock.
    stores = [draft_store_factory() for _ in range(6)]

    def edit(worker: int) -> None:
        store = stores[worker]
        try:
            for n in range(10):
                while True:
                    current = store.get_draft(draft_id, "key_a")
                    assert current is not None
                    items = [*current.content["items"], f"{worker}-{n}"]
                    content = {**current.content, "items": items}
                    if store.update_draft(
                        draft_id, "key_a", version=current.version, content=content, now=2.0
                    ):
                        break
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    final = draft_store_factory().get_draft(draft_id, "key_a")
    assert final is not None
    assert sorted(final.content["items"]) == sorted(f"{w}-{n}" for w in range(6) for n in range(10))
    assert final.version == 61
