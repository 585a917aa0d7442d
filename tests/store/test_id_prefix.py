"""``TaskFilter.id_prefix``: tasks whose id starts with a prefix, matched literally and
case-sensitively, through an index. The same tests against a real SQLite file and a real
PostgreSQL database."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store import postgres, sqlite
from vidtask.store.base import TaskFilter, TaskStore
from vidtask.store.postgres import PostgresStore
from vidtask.store.sqlite import SQLiteStore

IDS = (
    "vt_abc1",
    "vt_abc2",
    "vt_abd",
    "Vt_abc3",  # another case
    "vtXabc",  # ``_`` must not match any character
    "job%1",
    "job_1",
    "jobX1",
    "a\\b",
    "aXb",
    "z\U0010ffffq",  # the last code point: no "next" string above the prefix
    "za",
    "日本1",
    "日本2",
    "日朝",
)


@pytest.fixture
def seeded(store: TaskStore) -> TaskStore:
    for n, task_id in enumerate(IDS):
        spec = TaskSpec("timeline", {"n": n})
        store.create(Task.create(spec, owner="alice", now=float(n), task_id=task_id))
    store.create(Task.create(TaskSpec("timeline", {}), owner="bob", now=99.0, task_id="vt_abc9"))
    return store


def ids(store: TaskStore, prefix: str | None, **query: object) -> list[str]:
    found = store.list_tasks("alice", TaskFilter(id_prefix=prefix, order="asc", **query))  # type: ignore[arg-type]
    return [t.id for t in found.items]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("vt_ab", ["vt_abc1", "vt_abc2", "vt_abd"]),
        ("vt_abc", ["vt_abc1", "vt_abc2"]),
        ("vt_abc1", ["vt_abc1"]),
        ("vt_abc1x", []),
        ("Vt", ["Vt_abc3"]),
        ("VT", []),
        ("job%", ["job%1"]),
        ("job_", ["job_1"]),
        ("job", ["job%1", "job_1", "jobX1"]),
        ("a\\", ["a\\b"]),
        ("z\U0010ffff", ["z\U0010ffffq"]),
        ("z", ["z\U0010ffffq", "za"]),
        ("日本", ["日本1", "日本2"]),
        ("%", []),
        ("_", []),
    ],
)
def test_list_and_count_match_the_prefix_literally(
    seeded: TaskStore, prefix: str, expected: list[str]
) -> None:
    assert ids(seeded, prefix) == expected
    assert seeded.count_tasks("alice", TaskFilter(id_prefix=prefix)) == len(expected)


def test_no_or_an_empty_prefix_matches_every_task(seeded: TaskStore) -> None:
    assert ids(seeded, None, limit=100) == list(IDS)
    assert ids(seeded, "", limit=100) == list(IDS)
    assert seeded.count_tasks("alice", TaskFilter(id_prefix="")) == len(IDS)


def test_the_prefix_combines_with_owner_filters_and_paging(seeded: TaskStore) -> None:
    assert seeded.count_tasks("bob", TaskFilter(id_prefix="vt_abc")) == 1
    claimed = seeded.claim("w", ("timeline",), 200.0, 30)  # the oldest: vt_abc1
    assert claimed is not None and claimed.id == "vt_abc1"
    assert ids(seeded, "vt_", statuses=(Status.QUEUED,)) == ["vt_abc2", "vt_abd"]
    first = seeded.list_tasks("alice", TaskFilter(id_prefix="vt_ab", limit=2))
    assert [t.id for t in first.items] == ["vt_abd", "vt_abc2"] and first.has_more
    rest = seeded.list_tasks("alice", TaskFilter(id_prefix="vt_ab", after=first.next_cursor))
    assert [t.id for t in rest.items] == ["vt_abc1"] and not rest.has_more


def test_sqlite_prefix_query_uses_the_owner_id_index(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "vidtask.db")
    for query in (TaskFilter(id_prefix="vt_ab"), TaskFilter(id_prefix="vt_ab", model="timeline")):
        where, args = sqlite._filter("alice", query)
        plan = (
            store.connection()
            .execute(f"EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE {' AND '.join(where)}", args)
            .fetchall()
        )
        assert any("INDEX tasks_owner_id (owner=? AND id>? AND id<?)" in r[3] for r in plan), plan
    store.close()


def test_postgres_prefix_query_uses_the_owner_id_index(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        with store.connection() as conn:
            conn.execute(
                "INSERT INTO tasks (id, owner, model, input, status, stage, created_at,"
                " updated_at) SELECT 'vt_' || md5(i::text), 'k' || (i % 5), 'timeline', '{}',"
                " 'queued', 'queued', i, i FROM generate_series(1, 5000) AS i"
            )
            conn.execute("ANALYZE tasks")
            where, args = postgres._filter("k1", TaskFilter(id_prefix="vt_ab"))
            plan = conn.execute(
                f"EXPLAIN SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY seq DESC"
                " LIMIT 21",
                args,
            ).fetchall()
        text = "\n".join(row["QUERY PLAN"] for row in plan)
        assert "tasks_owner_id" in text and "~>=~" in text, text
        assert store.count_tasks("k1", TaskFilter(id_prefix="vt_ab")) == sum(
            1 for i in range(1, 5001) if i % 5 == 1 and _md5(i).startswith("ab")
        )
    finally:
        store.close()


def _md5(i: int) -> str:
    return hashlib.md5(str(i).encode()).hexdigest()
