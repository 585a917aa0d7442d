"""How tools reach tasks: a `Backend` authenticates each call and hands back that caller's
`Videos`.

Two implementations: `vidtask.mcp_server.local` works on a `TaskService` in this process (the
``/mcp`` mount of the server, and ``vidtask mcp`` on the local store), and
`vidtask.mcp_server.remote` talks to a running server with the SDK (``vidtask mcp --url``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from vidtask.client.models import Task
from vidtask.core.routing import ModelRouter
from vidtask.mcp_server.models import ModelInfo

__all__ = ["Backend", "OnChange", "Videos"]

#: Called with each new version of a task while waiting.
OnChange = Callable[[Task], Awaitable[None]]


class Videos(Protocol):
    """One caller's tasks. Errors are `vidtask.core.errors.VidtaskError`s."""

    async def submit(self, model: str, input: dict[str, Any]) -> Task: ...

    async def get(self, task_id: str) -> Task: ...

    async def cancel(self, task_id: str) -> Task: ...

    async def list_tasks(self, statuses: list[str], limit: int) -> tuple[list[Task], bool]:
        """Newest first: up to ``limit`` tasks, and whether more match."""
        ...

    async def models(self) -> list[ModelInfo]: ...

    async def router(self) -> ModelRouter:
        """Resolves model names as the server does (to pick the input a model takes)."""
        ...

    def video_file(self, task: Task) -> str | None:
        """Where the task's video is on this machine, when tools run next to the store
        (``vidtask mcp`` on the local store); None otherwise."""
        ...

    async def wait(self, task_id: str, timeout: float, on_change: OnChange) -> Task:
        """The task once terminal, or as it is after ``timeout`` seconds; ``on_change`` sees
        the first read and every later version."""
        ...


class Backend(Protocol):
    async def videos(self, headers: Mapping[str, str] | None) -> Videos:
        """The caller's tasks; ``headers`` are the HTTP request's (None over stdio).
        Raises `vidtask.core.errors.Unauthorized`."""
        ...
