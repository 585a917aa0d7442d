"""The in-process backend: tools call the `TaskService` directly, as the REST routes do.

Used by the ``/mcp`` mount (the server's own service, auth and change feed) and by
``vidtask mcp`` on the local store (see `vidtask.mcp_server.runtime`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import anyio

from vidtask.client.models import Task
from vidtask.core import task as core_task
from vidtask.core.routing import ModelRouter
from vidtask.dialects import native
from vidtask.events.feed import ChangeFeed
from vidtask.mcp_server import auth
from vidtask.mcp_server.backend import OnChange
from vidtask.mcp_server.models import ModelInfo
from vidtask.service import TaskService, request_hash
from vidtask.store.base import TaskFilter

__all__ = ["LocalBackend", "LocalVideos"]


class LocalBackend:
    """``api_key`` is the stdio caller's key (``VIDTASK_API_KEY``); HTTP callers send theirs.
    ``local_files``: answers name the video's path too (never over HTTP: a remote caller has no
    use for the server's paths)."""

    def __init__(
        self,
        service: TaskService,
        authenticator: auth.Authenticator,
        feed: ChangeFeed,
        *,
        api_key: str | None = None,
        local_files: bool = False,
    ) -> None:
        self.service = service
        self.authenticator = authenticator
        self.feed = feed
        self.api_key = api_key
        self.local_files = local_files

    async def videos(self, headers: Mapping[str, str] | None) -> LocalVideos:
        given = auth.key_headers(self.api_key) if headers is None else headers
        owner = auth.owner(self.authenticator, given)
        return LocalVideos(self, owner)


class LocalVideos:
    def __init__(self, backend: LocalBackend, owner: str) -> None:
        self.backend = backend
        self.service = backend.service
        self.owner = owner
        self._files: dict[str, str] = {}

    def _view(self, task: core_task.Task) -> Task:
        video = (task.result or {}).get("video")
        if self.backend.local_files and isinstance(video, str):
            path = self.service.artifacts.local_path(task.id, video)
            if path is not None:
                self._files[task.id] = str(path)
        return Task.model_validate(native.view(task, self.service.links(task)))

    def video_file(self, task: Task) -> str | None:
        return self._files.get(task.id)

    async def submit(self, model: str, input: dict[str, Any]) -> Task:
        spec = core_task.TaskSpec(
            model=model, input=input, request_hash=request_hash({"model": model, "input": input})
        )
        # Blocking: it may resolve asset hosts while validating.
        task, _ = await anyio.to_thread.run_sync(self.service.submit, self.owner, spec)
        return self._view(task)

    async def get(self, task_id: str) -> Task:
        return self._view(self.service.get(self.owner, task_id))

    async def cancel(self, task_id: str) -> Task:
        task = await anyio.to_thread.run_sync(self.service.cancel, self.owner, task_id)
        return self._view(task)

    async def list_tasks(self, statuses: list[str], limit: int) -> tuple[list[Task], bool]:
        query = TaskFilter(statuses=tuple(core_task.Status(s) for s in statuses), limit=limit)
        page = self.service.list_tasks(self.owner, query)
        return [self._view(t) for t in page.items], page.has_more

    async def models(self) -> list[ModelInfo]:
        found = [
            ModelInfo(id=name, description=backend.description)
            for name, backend in self.service.backends.items()
        ]
        for alias, model in self.service.router.served_aliases().items():
            found.append(ModelInfo(id=alias, description=f"alias of {model}", alias_of=model))
        return found

    async def router(self) -> ModelRouter:
        return self.service.router

    async def wait(self, task_id: str, timeout: float, on_change: OnChange) -> Task:
        # Subscribe before the first read, so no change can slip in between; the feed only
        # wakes us, the store is re-read (as the REST long-poll does).
        feed = self.backend.feed
        sub = feed.subscribe(self.owner, task_id)
        deadline = time.monotonic() + timeout
        try:
            task = self.service.get(self.owner, task_id)
            await on_change(self._view(task))
            while not task.terminal:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                await sub.wait(left)
                fresh = self.service.get(self.owner, task_id)
                if fresh.version != task.version:
                    await on_change(self._view(fresh))
                task = fresh
            return self._view(task)
        finally:
            feed.unsubscribe(sub)
