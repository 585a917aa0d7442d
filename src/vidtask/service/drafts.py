"""capcut-mate drafts, for its routes: durable, owned by an API key, changed under
compare-and-swap (`vidtask.dialects.capcut_mate.routes`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vidtask.service.runner import Runner
from vidtask.store.drafts import DraftRecord, DraftStore

__all__ = ["Drafts"]


class Drafts:
    def __init__(
        self, store: DraftStore, runner: Runner, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._run = runner
        self._clock = clock

    async def create(self, record: DraftRecord) -> None:
        await self._run.write(self._store.create_draft, record)

    async def get(self, draft_id: str, owner: str) -> DraftRecord | None:
        return await self._run.read(self._store.get_draft, draft_id, owner)

    async def update(
        self, draft_id: str, owner: str, *, version: int, content: dict[str, Any]
    ) -> DraftRecord | None:
        """The draft with ``content``, if it was still at ``version``; None if not."""
        update = self._store.update_draft
        now = self._clock()
        return await self._run.write(
            update, draft_id, owner, version=version, content=content, now=now
        )

    async def set_task(
        self, draft_id: str, owner: str, *, expected: str | None, task_id: str
    ) -> bool:
        """Point the draft at a new render if its current one is still ``expected``."""
        set_task = self._store.set_draft_task
        now = self._clock()
        return await self._run.write(
            set_task, draft_id, owner, expected=expected, task_id=task_id, now=now
        )
