"""Durable drafts (capcut-mate's draft API): the record and the protocol a store keeps them by.

A draft's ``content`` is an opaque JSON document to the store (`vidtask.capcut.draft` gives it
meaning). Every change goes through `DraftStore.update` with the version the caller read, a
compare-and-swap: two concurrent edits never silently overwrite each other; the loser re-reads
and applies its edit again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["DraftRecord", "DraftStore"]


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
