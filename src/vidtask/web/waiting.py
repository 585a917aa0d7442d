"""Long-poll on a task's status route: ``?wait=N`` answers as soon as the task changes.

It follows the task through the service (`AsyncTaskService.follow`: the change feed wakes it,
the task is re-read), so what a client sees is always what is stored.
"""

from __future__ import annotations

from contextlib import aclosing

from starlette.requests import Request

from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.web.state import state

__all__ = ["MAX_WAIT_S", "wait_for_change"]

MAX_WAIT_S = 60.0


async def wait_for_change(request: Request, task: Task) -> Task:
    """Long-poll: ``?wait=N&version=V`` answers as soon as the task's version exceeds V
    (default: the ``If-None-Match`` ETag, else the current version) or after N s (max 60)."""
    params = request.query_params
    wait = _number(params.get("wait"), "wait", 0.0, MAX_WAIT_S)
    version = params.get("version") or request.headers.get("if-none-match", "").strip('"')
    seen = int(_number(version, "version", 0, 2**62)) if version else task.version
    if task.version > seen or task.terminal or wait <= 0:
        return task
    current = task
    async with aclosing(state(request).tasks.follow(task.owner, task.id, wait)) as versions:
        async for current in versions:
            if current.version > seen or current.terminal:
                break
    return current


def _number(raw: str | None, name: str, low: float, high: float) -> float:
    if raw is None:
        return low
    try:
        value = float(raw)
    except ValueError:
        raise errors.InvalidRequest(
            f"{name}: must be a number, got {raw[:40]!r}", param=name
        ) from None
    if not low <= value <= high:
        raise errors.InvalidRequest(f"{name}: must be between {low:g} and {high:g}", param=name)
    return value
