"""A task as a response, for every dialect's reads: its view with ``ETag`` = the task version,
304 for an unchanged one, and how long a poller should wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from vidtask.core.task import Links, Status, Task
from vidtask.web.state import state

__all__ = ["TASK_ID_PARAM", "poll_interval", "task_response"]

#: The hot path: an endpoint taking only `Request` is called without FastAPI's parameter solving
#: (`vidtask.web.errors.route_class`); the path parameter is declared for OpenAPI by hand.
TASK_ID_PARAM = {
    "parameters": [
        {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
}


def task_response(
    request: Request,
    task: Task,
    view: Callable[[Task, Links], dict[str, Any]],
    status_code: int = 200,
) -> Response:
    """A dialect's view of a task, with ``ETag`` = the task version; ``If-None-Match`` on an
    unchanged task gets 304."""
    etag = f'"{task.version}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if not task.terminal:
        headers["Retry-After"] = str(poll_interval(task))
    if status_code == 200 and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    app = state(request)
    body = app.views.body(view.__module__, task, lambda: view(task, app.tasks.links(task)))
    return Response(body, status_code, headers, media_type="application/json")


def poll_interval(task: Task) -> int:
    """Seconds a polling client should wait: longer for a long way to go, never above 10."""
    if task.status is Status.QUEUED:
        return 2
    eta = task.eta_seconds
    return 1 if eta is None else max(1, min(10, round(eta / 10)))
