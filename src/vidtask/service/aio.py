"""The task service for async callers: the routes, the SSE streams and the MCP tools.

Each method says whether it reads or may write, and the store engine's `Runner` runs it inline
on the event loop or in a worker thread (`vidtask.service.runner`). Nothing above this reaches
the store or the artifacts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from vidtask.core import errors
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Task, TaskSpec
from vidtask.events.feed import ChangeFeed
from vidtask.render.assets import AssetPolicy
from vidtask.service import derived, tasks
from vidtask.service.runner import Runner
from vidtask.service.tasks import Artifact, InputStore, Model, TaskService
from vidtask.store.base import Change, Page, TaskFilter

__all__ = ["AsyncTaskService"]


class AsyncTaskService:
    """`TaskService` with awaitable methods, plus the event log, files and waiting."""

    def __init__(self, service: TaskService, runner: Runner, feed: ChangeFeed) -> None:
        self._service = service
        self._run = runner
        #: Wakes waiters when tasks change (`follow`; the SSE streams subscribe to it too).
        self.feed = feed

    # --- no store: answered on the loop -------------------------------------------------

    def links(self, task: Task) -> Links:
        return self._service.links(task)

    def link_expiry(self) -> int:
        return self._service.link_expiry()

    def link_origins(self) -> tuple[str, ...]:
        return self._service.link_origins()

    def models(self) -> list[Model]:
        return self._service.models()

    def input_schema(self, model: str) -> dict[str, Any]:
        return self._service.input_schema(model)

    @property
    def routing(self) -> ModelRouter:
        """Requested model names to local models, for the dialects' parsers."""
        return self._service.router

    @property
    def asset_policy(self) -> AssetPolicy:
        return self._service.asset_policy

    @property
    def inputs(self) -> InputStore:
        """Where uploads go (`TaskService.inputs`); its methods block: call them in a thread."""
        return self._service.inputs

    # --- tasks --------------------------------------------------------------------------

    async def submit(self, owner: str, spec: TaskSpec) -> tuple[Task, bool]:
        return await self._run.write(self._service.submit, owner, spec)

    async def validate(self, owner: str, spec: TaskSpec) -> tuple[str, dict[str, Any]]:
        """`TaskService.validate`, never on the loop: like a submit, it may resolve hosts."""
        return await self._run.write(self._service.validate, owner, spec)

    async def get(self, owner: str, task_id: str) -> Task:
        """The task, or `NotFound` (unknown, another key's, or deleted)."""
        read = functools.partial(self._service.get, owner, task_id)
        return tasks.found(await self._run.task(task_id, owner, read), task_id)

    async def find(self, owner: str, task_id: str) -> Task | None:
        """The task, or None (unknown, another key's, or deleted)."""
        read = functools.partial(self._service.store.get, task_id, owner)
        return await self._run.task(task_id, owner, read)

    async def list_tasks(self, owner: str, query: TaskFilter) -> Page:
        return await self._run.read(self._service.list_tasks, owner, query)

    async def count_tasks(self, owner: str, query: TaskFilter) -> int:
        return await self._run.read(self._service.count_tasks, owner, query)

    async def cancel(self, owner: str, task_id: str) -> Task:
        return await self._run.write(self._service.cancel, owner, task_id)

    async def delete(self, owner: str, task_id: str) -> Task:
        return await self._run.write(self._service.delete, owner, task_id)

    async def withdraw(self, owner: str, task_id: str) -> Task:
        return await self._run.write(self._service.withdraw, owner, task_id)

    async def counts(self) -> dict[str, int]:
        """Tasks by status, all keys together."""
        return await self._run.read(self._service.store.counts)

    # --- the event log ------------------------------------------------------------------

    async def history(
        self, owner: str, task_id: str, after_version: int, limit: int = -1
    ) -> list[Task]:
        """The task as of each version after ``after_version`` the log still has."""
        store = self._service.store
        return await self._run.read(store.task_history, task_id, owner, after_version, limit)

    async def events_since(self, seq: int, owner: str) -> list[Change]:
        return await self._run.read(self._service.store.events_since, seq, owner=owner)

    async def event_at(self, seq: int) -> Task | None:
        return await self._run.read(self._service.store.event_at, seq)

    async def last_event_seq(self) -> int:
        return await self._run.read(self._service.store.last_event_seq)

    async def follow(self, owner: str, task_id: str, timeout: float) -> AsyncGenerator[Task, None]:
        """The task now, then each new version, until it is terminal or ``timeout`` seconds
        passed. The feed only wakes the wait; the task is re-read, so what a caller sees is
        always what is stored. Use it inside ``contextlib.aclosing``."""
        # Subscribe before the first read, so no change can slip in between.
        sub = self.feed.subscribe(owner, task_id)
        deadline = time.monotonic() + timeout
        try:
            task = await self.get(owner, task_id)
            yield task
            while not task.terminal:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                await sub.wait(left)
                fresh = await self.get(owner, task_id)
                if fresh.version != task.version:
                    yield fresh
                task = fresh
        finally:
            self.feed.unsubscribe(sub)

    # --- files --------------------------------------------------------------------------

    async def file(self, task_id: str, name: str) -> Artifact | None:
        # A remote store's HEAD is a network round trip: never on the loop (`write` threads).
        remote = self._service.artifacts.local_root is None
        return await (self._run.write if remote else self._run.read)(
            self._service.artifact, task_id, name
        )

    async def signed_file(self, task_id: str, name: str, exp: int, sig: str) -> Artifact:
        """The file a signed link names, made first if it is a derived one (a video's last
        frame); `NotFound` for a bad or expired link, or a file that no longer exists."""
        self._service.check_link(task_id, name, exp, sig)
        found = await self.file(task_id, name)
        if found is None and derived.is_derived(name):
            if await self._run.write(self._service.make_derived, task_id, name):
                found = await self.file(task_id, name)
        if found is None:
            raise errors.NotFound("this file no longer exists")
        return found

    def local_path(self, task_id: str, name: str) -> Path | None:
        """Where a file of the task is on this machine (for callers beside the store)."""
        return self._service.local_path(task_id, name)
