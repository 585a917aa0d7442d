"""``GET /v1/tasks/{task_id}/dialects``: one task as every dialect's status read answers it
("how clients see it" in the dashboard). It needs every dialect, so it is the app's, not one
dialect's; each entry is the dialect's own `Dialect.status_view`, the same function its status
route answers with, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from vidtask.web.dialect import Dialect
from vidtask.web.state import state
from vidtask.web.tasks import TASK_ID_PARAM

__all__ = ["router"]


def router(dialects: Sequence[Dialect]) -> APIRouter:
    """The route over ``dialects`` (a dialect whose status read cannot reach a task, as
    capcut-mate for a task not rendered from a draft, answers null)."""
    routes = APIRouter(tags=["tasks"])
    readers = [(d.name, d.status_view) for d in dialects if d.status_view is not None]

    @routes.get("/v1/tasks/{task_id}/dialects", openapi_extra=TASK_ID_PARAM)
    async def task_dialects(request: Request) -> JSONResponse:
        app = state(request)
        task_id = request.path_params["task_id"]
        task = await app.tasks.get(await app.auth.owner(request), task_id)
        links = app.tasks.links(task)
        views = {name: view(task, links) for name, view in readers}
        return JSONResponse({"object": "task.dialects", "id": task.id, "dialects": views})

    return routes
