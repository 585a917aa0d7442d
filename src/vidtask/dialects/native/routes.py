"""Routes of the native API: ``/v1/tasks``, ``/v1/models``, ``/v1/schemas``."""

from __future__ import annotations

from fastapi import Query, Request, Response
from starlette.responses import JSONResponse

from vidtask.core.task import Status
from vidtask.dialects import native
from vidtask.store.base import TaskFilter
from vidtask.web.body import read_json
from vidtask.web.dialect import Dialect, Flow
from vidtask.web.intake import Intake
from vidtask.web.state import state
from vidtask.web.tasks import TASK_ID_PARAM, task_response
from vidtask.web.waiting import wait_for_change

__all__ = ["DIALECT"]

DIALECT = Dialect(
    name="native",
    prefixes=("/v1/tasks", "/v1/models", "/v1/schemas/"),
    parse=native.parse_create,
    view=native.view,
    error_view=native.error_view,
    tags=["tasks"],
    payload=native.event_payload,
    flows=(
        Flow(
            "/v1/tasks",
            "201",
            "$response.body#/id",
            "task_id",
            (
                ("GetTask", "get", "/v1/tasks/{task_id}"),
                ("CancelTask", "post", "/v1/tasks/{task_id}/cancel"),
                ("DeleteTask", "delete", "/v1/tasks/{task_id}"),
            ),
        ),
    ),
)
router = DIALECT.router

_CREATE_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": native.CreateTask.model_json_schema()}},
    }
}


@router.post("/v1/tasks", status_code=201, openapi_extra=_CREATE_SCHEMA)
async def create_task(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    body = await read_json(request)
    task, created = await Intake(app, request).submit(owner, body, native.parse_create)
    return task_response(request, task, native.view, 201 if created else 200)


@router.post("/v1/tasks/validate", openapi_extra=_CREATE_SCHEMA)
async def validate_task(request: Request) -> JSONResponse:
    """A dry run of ``POST /v1/tasks``: the same checks and errors, but no task is made and an
    Idempotency-Key is neither read nor used up, so a form can check a body as it is edited."""
    app = state(request)
    owner = await app.auth.owner(request)
    body = await read_json(request)
    # No key, so nothing is replayed or reserved; the body's hash only matters with one.
    spec = native.parse_create(body, router=app.tasks.routing, idempotency_key=None, body_hash="")
    model, normalized = await app.tasks.validate(owner, spec)
    return JSONResponse(
        {"object": "validation", "valid": True, "model": model, "input": normalized}
    )


@router.get("/v1/tasks/{task_id}", openapi_extra=TASK_ID_PARAM)
async def get_task(request: Request) -> Response:
    app = state(request)
    task = await app.tasks.get(await app.auth.owner(request), request.path_params["task_id"])
    if request.scope["query_string"] and "wait" in request.query_params:  # a plain poll parses none
        task = await wait_for_change(request, task)
    return task_response(request, task, native.view)


@router.get("/v1/tasks/{task_id}/input", openapi_extra=TASK_ID_PARAM)
async def task_input(request: Request) -> JSONResponse:
    """The task's request as a native create body (the model as the client named it, the
    input as validated), for running it again or reading what was asked."""
    app = state(request)
    owner = await app.auth.owner(request)
    task = await app.tasks.get(owner, request.path_params["task_id"])
    return JSONResponse(native.create_body(task))


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
    owner = await app.auth.owner(request)
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
    page = await app.tasks.list_tasks(owner, query)
    return JSONResponse(
        {
            "object": "list",
            "data": [native.view(t, app.tasks.links(t)) for t in page.items],
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
        }
    )


@router.post("/v1/tasks/{task_id}/cancel")
async def cancel_task(task_id: str, request: Request) -> Response:
    app = state(request)
    task = await app.tasks.cancel(await app.auth.owner(request), task_id)
    return task_response(request, task, native.view)


@router.delete("/v1/tasks/{task_id}")
async def delete_task(task_id: str, request: Request) -> JSONResponse:
    app = state(request)
    await app.tasks.delete(await app.auth.owner(request), task_id)
    return JSONResponse({"id": task_id, "object": "task.deleted", "deleted": True})


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    app = state(request)
    await app.auth.owner(request)
    data = [
        {"id": m.id, "object": "model", "description": m.description}
        | ({} if m.alias_of is None else {"alias_of": m.alias_of})
        | ({"providers": list(m.providers)} if m.providers else {})
        for m in app.tasks.models()
    ]
    return JSONResponse({"object": "list", "data": data})


@router.get("/v1/schemas/{model}.json")
async def model_schema(model: str, request: Request) -> JSONResponse:
    return JSONResponse(state(request).tasks.input_schema(model))
