"""The in-process backend: tools use the service (`AsyncTaskService`), as the REST routes do.

Used by the ``/mcp`` mount (the server's own service and auth) and by ``vidtask mcp`` on the
local store (see `vidtask.mcp_server.runtime`).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import aclosing
from typing import Any

from vidtask.client.models import Task
from vidtask.core import task as core_task
from vidtask.core.routing import ModelRouter
from vidtask.dialects import native
from vidtask.mcp_server import auth
from vidtask.mcp_server.backend import OnChange
from vidtask.mcp_server.models import ModelInfo
from vidtask.service.aio import AsyncTaskService
from vidtask.service.tasks import request_hash
from vidtask.store.base import TaskFilter

__all__ = ["LocalBackend", "LocalVideos"]


class LocalBackend:
    """``api_key`` is the stdio caller's key (``VIDTASK_API_KEY``); HTTP callers send theirs.
    ``local_files``: answers name the video's path too (never over HTTP: a remote caller has no
    use for the server's paths)."""

    def __init__(
        self,
        tasks: AsyncTaskService,
        authenticator: auth.Authenticator,
        *,
        api_key: str | None = None,
        local_files: bool = False,
    ) -> None:
        self.tasks = tasks
        self.authenticator = authenticator
        self.api_key = api_key
        self.local_files = local_files

    async def videos(self, headers: Mapping[str, str] | None) -> LocalVideos:
        given = auth.key_headers(self.api_key) if headers is None else headers
        owner = await auth.owner(self.authenticator, given)
        return LocalVideos(self, owner)


class LocalVideos:
    def __init__(self, backend: LocalBackend, owner: str) -> None:
        self.backend = backend
        self.tasks = backend.tasks
        self.owner = owner
        self._files: dict[str, str] = {}

    def _view(self, task: core_task.Task) -> Task:
        video = (task.result or {}).get("video")
        if self.backend.local_files and isinstance(video, str):
            path = self.tasks.local_path(task.id, video)
            if path is not None:
                self._files[task.id] = str(path)
        return Task.model_validate(native.view(task, self.tasks.links(task)))

    def video_file(self, task: Task) -> str | None:
        return self._files.get(task.id)

    async def submit(self, model: str, input: dict[str, Any]) -> Task:
        spec = core_task.TaskSpec(
            model=model, input=input, request_hash=request_hash({"model": model, "input": input})
        )
        task, _ = await self.tasks.submit(self.owner, spec)
        return self._view(task)

    async def get(self, task_id: str) -> Task:
        return self._view(await self.tasks.get(self.owner, task_id))

    async def cancel(self, task_id: str) -> Task:
        return self._view(await self.tasks.cancel(self.owner, task_id))

    async def list_tasks(self, statuses: list[str], limit: int) -> tuple[list[Task], bool]:
        query = TaskFilter(statuses=tuple(core_task.Status(s) for s in statuses), limit=limit)
        page = await self.tasks.list_tasks(self.owner, query)
        return [self._view(t) for t in page.items], page.has_more

    async def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(id=m.id, description=m.description, alias_of=m.alias_of)
            for m in self.tasks.models()
        ]

    async def router(self) -> ModelRouter:
        return self.tasks.routing

    async def wait(self, task_id: str, timeout: float, on_change: OnChange) -> Task:
        task: core_task.Task | None = None
        async with aclosing(self.tasks.follow(self.owner, task_id, timeout)) as versions:
            async for task in versions:
                await on_change(self._view(task))
        assert task is not None  # follow yields the task at least once, or raises
        return self._view(task)
