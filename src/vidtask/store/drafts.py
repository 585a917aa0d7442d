"""Durable drafts (capcut-mate's draft API): the record, the protocol a store keeps them by, and
its one implementation (`SQLDraftStore`, on the task store's connector).

A draft's ``content`` is an opaque JSON document to the store (`vidtask.capcut.draft` gives it
meaning). Every change goes through `DraftStore.update` with the version the caller read, a
compare-and-swap: two concurrent edits never silently overwrite each other; the loser re-reads
and applies its edit again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

from vidtask.store.rows import Row

if TYPE_CHECKING:
    from vidtask.store.connector import Connector
    from vidtask.store.tasks import SQLTaskStore

__all__ = ["DraftRecord", "DraftStore", "SQLDraftStore"]


@dataclass(frozen=True, slots=True)
class DraftRecord:
    id: str
    owner: str
    content: dict[str, Any]
    created_at: float
    updated_at: float
    #: Bumped on every change (content or task).
    version: int = 1
    #: The draft's latest render task.
    task_id: str | None = None


class DraftStore(Protocol):
    def create_draft(self, draft: DraftRecord) -> None: ...

    def get_draft(self, draft_id: str, owner: str) -> DraftRecord | None:
        """The draft if it exists and belongs to ``owner``."""
        ...

    def update_draft(
        self, draft_id: str, owner: str, *, version: int, content: dict[str, Any], now: float
    ) -> DraftRecord | None:
        """Replace the content if the draft is still at ``version``; None if it changed
        meanwhile (or does not exist)."""
        ...

    def set_draft_task(
        self, draft_id: str, owner: str, *, expected: str | None, task_id: str, now: float
    ) -> bool:
        """Point the draft at a new render if its current one is still ``expected``."""
        ...

    def count_drafts(self, owner: str) -> int: ...


class SQLDraftStore:
    """The drafts table beside a task store, on its connector (SQLite or PostgreSQL)."""

    def __init__(self, store: SQLTaskStore[Any]) -> None:
        self.db: Connector = store.db
        self.queries = store.db.queries

    def create_draft(self, draft: DraftRecord) -> None:
        params = {**_fields(draft), "content": self.db.json(draft.content, compact=True)}
        with self.db.write() as s:
            s.run(self.queries["insert_draft"], params)

    def get_draft(self, draft_id: str, owner: str) -> DraftRecord | None:
        with self.db.read() as s:
            row = s.one(self.queries["draft"], {"id": draft_id, "owner": owner})
        return None if row is None else self._record(row)

    def update_draft(
        self, draft_id: str, owner: str, *, version: int, content: dict[str, Any], now: float
    ) -> DraftRecord | None:
        params = {
            "id": draft_id,
            "owner": owner,
            "version": version,
            "content": self.db.json(content, compact=True),
            "now": now,
        }
        with self.db.write() as s:
            row = s.one(self.queries["update_draft"], params)
        return None if row is None else self._record(row)

    def set_draft_task(
        self, draft_id: str, owner: str, *, expected: str | None, task_id: str, now: float
    ) -> bool:
        params = {"id": draft_id, "owner": owner, "expected": expected, "task_id": task_id}
        with self.db.write() as s:
            return s.run(self.queries["set_draft_task"], {**params, "now": now}) == 1

    def count_drafts(self, owner: str) -> int:
        with self.db.read() as s:
            row = s.one(self.queries["count_drafts"], {"owner": owner})
        return 0 if row is None else int(row["n"])

    def _record(self, row: Row) -> DraftRecord:
        return DraftRecord(
            id=row["id"],
            owner=row["owner"],
            content=self.db.load(row["content"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            version=row["version"],
            task_id=row["task_id"],
        )


def _fields(draft: DraftRecord) -> dict[str, Any]:
    return {f.name: getattr(draft, f.name) for f in fields(DraftRecord)}
