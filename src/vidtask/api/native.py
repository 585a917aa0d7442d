"""Routes of the native API: ``/v1/tasks``, ``/v1/models``, ``/v1/schemas``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from starlette.responses import JSONResponse

from vidtask.api import events
from vidtask.api.errors import read_json
from vidtask.api.state import state
from vidtask.core import errors
from vidtask.core.task import Links, Status, Task, TaskSpec
from vidtask.dialects import native
from vidtask.service import request_hash
from vidtask.store.base import TaskFilter

__all__ = ["TASK_ID_PARAM", "router", "submit", "task_response"]

router = APIRouter(tags=["tasks"])

_CREATE_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": native.CreateTask.model_json_schema()}},
    }
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
    body = app.views.body(view.__module__, task, lambda: view(task, app.service.links(task)))
    return Response(body, status_code, headers, media_type="application/json")


def poll_interval(task: Task) -> int:
    """Seconds a polling client should wait: longer for a long way to go, never above 10."""
    if task.status is Status.QUEUED:
        return 2
    eta = task.eta_seconds
    return 1 if eta is None else max(1, min(10, round(eta / 10)))


async def submit(request: Request, parse: Callable[..., TaskSpec]) -> tuple[Task, bool]:
    """Every dialect's create: authenticate, parse the body with the dialect's parser, submit."""
    app = state(request)
    owner = app.auth.owner(request)
    body = await read_json(request)
    spec = parse(
        body,
        idempotency_key=request.headers.get("idempotency-key"),
        body_hash=request_hash(body if isinstance(body, dict) else {"body": body}),
    )
    task, created = await anyio.to_thread.run_sync(app.service.submit, owner, spec)
    if created:
        app.metrics.submitted.labels(task.model).inc()
    return task, created


@router.post("/v1/tasks", status_code=201, openapi_extra=_CREATE_SCHEMA)
async def create_task(request: Request) -> Response:
    task, created = await submit(request, native.parse_create)
    return task_response(request, task, native.view, 201 if created else 200)


#: The hot path: taking only `Request` skips FastAPI's parameter solving (DESIGN.md measures
#: the difference); the path parameter is declared for OpenAPI by hand.
TASK_ID_PARAM = {
    "parameters": [
        {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
}


@router.get("/v1/tasks/{task_id}", openapi_extra=TASK_ID_PARAM)
async def get_task(request: Request) -> Response:
    app = state(request)
    task = app.service.get(app.auth.owner(request), request.path_params["task_id"])
    if "wait" in request.query_params:
        task = await events.wait_for_change(request, task)
    return task_response(request, task, native.view)


@router.get("/v1/tasks")
async def list_tasks(
    request: Request,
    status: list[Status] = Query(default=[], description="Filter by status (repeatable)."),
    model: str | None = None,
    created_after: float | None = Query(
        None, allow_inf_nan=False, description="Unix seconds, inclusive."
    ),
    created_before: float | None = Query(
        None, allow_inf_nan=False, description="Unix seconds, exclusive."
    ),
    after: str | None = Query(None, description="Cursor: `next_cursor` of the previous page."),
    limit: int = Query(20, ge=1, le=100),
    order: str = Query("desc", pattern="^(asc|desc)$"),
    id_prefix: str | None = Query(
        None,
        pattern="^[A-Za-z0-9_-]{1,64}$",
        description="Only tasks whose id starts with this (1-64 of `A-Z a-z 0-9 _ -`).",
    ),
) -> JSONResponse:
    app = state(request)
    owner = app.auth.owner(request)
    query = TaskFilter(
        tuple(status),
        model,
        created_after,
        created_before,
        after,
        limit,
        order,
        id_prefix=id_prefix,
    )
    page = app.service.list_tasks(owner, query)
    return JSONResponse(
        {
            "object": "list",
            "data": [native.view(t, app.service.links(t)) for t in page.items],
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
        }
    )


@router.post("/v1/tasks/{task_id}/cancel")
async def cancel_task(task_id: str, request: Request) -> Response:
    app = state(request)
    task = await anyio.to_thread.run_sync(app.service.cancel, app.auth.owner(request), task_id)
    return task_response(request, task, native.view)


@router.delete("/v1/tasks/{task_id}")
async def delete_task(task_id: str, request: Request) -> JSONResponse:
    app = state(request)
    await anyio.to_thread.run_sync(app.service.delete, app.auth.owner(request), task_id)
    return JSONResponse({"id": task_id, "object": "task.deleted", "deleted": True})


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    app = state(request)
    app.auth.owner(request)
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "description": backend.description}
                for name, backend in app.service.backends.items()
            ]
            + [  # names clients may use for them (exact, or a shell-style pattern)
                {"id": alias, "object": "model", "description": f"alias of {model}"}
                | {"alias_of": model}
                for alias, model in app.service.router.served_aliases().items()
            ],
        }
    )


@router.get("/v1/schemas/{model}.json")
async def model_schema(model: str, request: Request) -> JSONResponse:
    backend = state(request).service.backends.get(model)
    if backend is None:
        raise errors.NotFound(f"no model {model!r}", param="model")
    return JSONResponse(backend.input_schema())
