"""The drafts table in the PostgreSQL store."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from vidtask.store.drafts import DraftRecord
from vidtask.store.postgres import PostgresStore
from vidtask.store.rows import Row

__all__ = ["PostgresDraftStore"]

_COLUMNS = "id, owner, content, created_at, updated_at, version, task_id"


class PostgresDraftStore:
    def __init__(self, db: PostgresStore) -> None:
        self.db = db

    def create_draft(self, draft: DraftRecord) -> None:
        with self.db.connection() as conn:
            conn.execute(
                f"INSERT INTO drafts ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    draft.id,
                    draft.owner,
                    Jsonb(draft.content),
                    draft.created_at,
                    draft.updated_at,
                    draft.version,
                    draft.task_id,
                ),
            )

    def get_draft(self, draft_id: str, owner: str) -> DraftRecord | None:
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM drafts WHERE id = %s AND owner = %s", (draft_id, owner)
            ).fetchone()
        return None if row is None else _record(row)

    def update_draft(
        self, draft_id: str, owner: str, *, version: int, content: dict[str, Any], now: float
    ) -> DraftRecord | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "UPDATE drafts SET content = %s, version = version + 1, updated_at = %s"
                " WHERE id = %s AND owner = %s AND version = %s"
                f" RETURNING {_COLUMNS}",
                (Jsonb(content), now, draft_id, owner, version),
            ).fetchone()
        return None if row is None else _record(row)

    def set_draft_task(
        self, draft_id: str, owner: str, *, expected: str | None, task_id: str, now: float
    ) -> bool:
        with self.db.connection() as conn:
            cur = conn.execute(
                "UPDATE drafts SET task_id = %s, version = version + 1, updated_at = %s"
                " WHERE id = %s AND owner = %s AND task_id IS NOT DISTINCT FROM %s",
                (task_id, now, draft_id, owner, expected),
            )
        return cur.rowcount == 1

    def count_drafts(self, owner: str) -> int:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT COUNT(*) AS n FROM drafts WHERE owner = %s", (owner,)
            ).fetchone()
        return int(row["n"]) if row else 0


def _record(row: Row) -> DraftRecord:
    return DraftRecord(
        id=row["id"],
        owner=row["owner"],
        content=row["content"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        task_id=row["task_id"],
    )
