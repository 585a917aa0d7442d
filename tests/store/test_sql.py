"""The named statements (``store/sql``): how a file is read, what a block may name, and that the
status guards rendered from ``core`` still reach the partial indexes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from vidtask.store import sql
from vidtask.store.sqlite import SQLiteStore

FILES = resources.files(sql.__name__)


def read(name: str) -> dict[str, str]:
    return sql.parse(FILES.joinpath(name).read_text(encoding="utf-8"))


def test_a_block_is_its_sql_without_its_comment_lines() -> None:
    text = "-- a file comment\n\n-- name: one\n-- what it does\nSELECT 1\n  FROM t;\n\n-- name: two\nx\n"
    assert sql.parse(text) == {"one": "SELECT 1\n  FROM t", "two": "x"}
    with pytest.raises(ValueError, match="'one' is defined twice"):
        sql.parse("-- name: one\nSELECT 1\n-- name: one\nSELECT 2\n")


def test_blocks_name_fragments_and_status_conditions_from_core() -> None:
    queries = sql.Queries(
        "sqlite",
        {
            "claimable": "SELECT seq FROM tasks WHERE {can_claim} {order}",
            "order": "ORDER BY seq",
            "expired": "WHERE {can_expire} AND x = '{kept}'",
            "gone": "WHERE {terminal} OR {leased}",
        },
    )
    assert queries["claimable"] == "SELECT seq FROM tasks WHERE status = 'queued' ORDER BY seq"
    assert queries["expired"] == "WHERE status IN ('queued', 'in_progress') AND x = '{kept}'"
    assert queries["gone"] == (
        "WHERE status IN ('completed', 'failed', 'cancelled') OR status = 'in_progress'"
    )
    with pytest.raises(KeyError, match="unknown {nothing}"):
        sql.Queries("sqlite", {"a": "SELECT {nothing}"})
    with pytest.raises(ValueError, match="includes itself"):
        sql.Queries("sqlite", {"a": "{b}", "b": "{a}"})


def test_parameters_in_psycopg_style() -> None:
    assert sql.to_pyformat("SELECT :a, ':b', '{}'::jsonb, x % 2 FROM t WHERE y = :a_1") == (
        "SELECT %(a)s, ':b', '{}'::jsonb, x %% 2 FROM t WHERE y = %(a_1)s"
    )


def test_lists_are_one_parameter_per_value_on_sqlite_and_an_array_on_postgres() -> None:
    lite, pg = sql.queries("sqlite"), sql.queries("postgres")
    assert lite.any_of("status", "s", ["a", "b"]) == (
        "status IN (:s_0, :s_1)",
        {"s_0": "a", "s_1": "b"},
    )
    assert pg.any_of("status", "s", ("a", "b")) == ("status = ANY(:s)", {"s": ["a", "b"]})


def test_no_statement_is_written_twice() -> None:
    shared, lite, pg = read("queries.sql"), read("sqlite.sql"), read("postgres.sql")
    # an engine's block differs from the other engine's and from the shared one
    for name in lite.keys() & pg.keys():
        assert lite[name] != pg[name], name
    for name, text in {**lite, **pg}.items():
        assert shared.get(name) != text, name
    # and the engines differ only where they must
    assert set(sql.queries("postgres")) - set(sql.queries("sqlite")) == {
        "event_lock",
        "claim_task",
        "requeue_stranded",
    }
    assert set(sql.queries("sqlite")) <= set(sql.queries("postgres"))


@pytest.mark.parametrize(
    ("name", "index", "params"),
    [
        ("claim", "tasks_queue", {"any_model": False, "models": '["timeline"]'}),
        ("claim", "tasks_queue", {"any_model": True, "models": "[]"}),
        ("recover_expired", "tasks_running", {}),
        ("overdue_cancels", "tasks_running", {}),
        ("expire_overdue", "tasks_deadline", {}),
    ],
)
def test_sqlite_status_guards_use_the_partial_indexes(
    tmp_path: Path, name: str, index: str, params: dict[str, Any]
) -> None:
    store = SQLiteStore(tmp_path / "vidtask.db")
    defaults = {"worker_id": "w", "lease_expires_at": 1.0, "now": 1.0, "before": 1.0}
    defaults |= {"error": "{}", "cancelled": "{}", "lost": "{}"}
    plan = store.connection().execute(
        "EXPLAIN QUERY PLAN " + store.queries[name], {**defaults, **params}
    )
    assert any(f"USING INDEX {index}" in row[3] for row in plan), name
    store.close()
