"""The drafts table in the embedded SQLite store (sharing its connections and transactions)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from vidtask.store.drafts import DraftRecord
from vidtask.store.sqlite import SQLiteStore

__all__ = ["SQLiteDraftStore"]

_COLUMNS = "id, owner, content, created_at, updated_at, version, task_id"


class SQLiteDraftStore:
    def __init__(self, db: SQLiteStore) -> None:
        self.db = db

    def create_draft(self, draft: DraftRecord) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                f"INSERT INTO drafts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    draft.id,
                    draft.owner,
                    _dump(draft.content),
                    draft.created_at,
                    draft.updated_at,
                    draft.version,
                    draft.task_id,
                ),
            )

    def get_draft(self, draft_id: str, owner: str) -> DraftRecord | None:
        row = (
            self.db.connection()
            .execute(f"SELECT {_COLUMNS} FROM drafts WHERE id = ? AND owner = ?", (draft_id, owner))
            .fetchone()
        )
        return None if row is None else _record(row)

    def update_draft(
        self, draft_id: str, owner: str, *, version: int, content: dict[str, Any], now: float
    ) -> DraftRecord | None:
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE drafts SET content = ?, version = version + 1, updated_at = ?"
                " WHERE id = ? AND owner = ? AND version = ?"
                f" RETURNING {_COLUMNS}",
                (_dump(content), now, draft_id, owner, version),
            ).fetchone()
        return None if row is None else _record(row)

    def set_draft_task(
        self, draft_id: str, owner: str, *, expected: str | None, task_id: str, now: float
    ) -> bool:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE drafts SET task_id = ?, version = version + 1, updated_at = ?"
                " WHERE id = ? AND owner = ? AND (task_id = ? OR (task_id IS NULL AND ? IS NULL))",
                (task_id, now, draft_id, owner, expected, expected),
            )
        return cur.rowcount == 1

    def count_drafts(self, owner: str) -> int:
        row = (
            self.db.connection()
            .execute("SELECT COUNT(*) FROM drafts WHERE owner = ?", (owner,))
            .fetchone()
        )
        return int(row[0])


def _dump(content: dict[str, Any]) -> str:
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False)


def _record(row: sqlite3.Row) -> DraftRecord:
    return DraftRecord(
        id=row["id"],
        owner=row["owner"],
        content=json.loads(row["content"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        task_id=row["task_id"],
    )
