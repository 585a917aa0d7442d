"""Routes of Volcengine Ark's content generation tasks (Doubao Seedance):
``/api/v3/contents/generations/tasks`` (create, get, list, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request, Response
from starlette.responses import JSONResponse

from vidtask.dialects import ark
from vidtask.web.body import read_json
from vidtask.web.dialect import Dialect, Flow
from vidtask.web.documented import request_body, responses
from vidtask.web.intake import Intake
from vidtask.web.state import state
from vidtask.web.tasks import TASK_ID_PARAM, task_response

__all__ = ["DIALECT"]

#: Service field paths in errors, as this dialect names them.
_FIELDS = {
    "webhook_url": "callback_url",
    "input.prompt": "content",
    "input.opening_image": "content",
    "input.width": "resolution",
    "input.height": "resolution",
    "input.seconds": "duration",
}

TASKS = "/api/v3/contents/generations/tasks"

DIALECT = Dialect(
    name="ark",
    prefixes=("/api/v3/",),
    parse=ark.parse_create,
    view=ark.view,
    error_view=ark.error_view,
    tags=["ark"],
    payload=ark.callback,
    flows=(
        Flow(
            TASKS,
            "200",
            "$response.body#/id",
            "task_id",
            (
                ("GetArkTask", "get", TASKS + "/{task_id}"),
                ("DeleteArkTask", "delete", TASKS + "/{task_id}"),
            ),
        ),
    ),
)
router = DIALECT.router

_ERROR = ark.ErrorEnvelope

_CREATE_SCHEMA = request_body(ark.CreateTask)


def _inline_images(intake: Intake, body: Any) -> Any:
    """``data:`` URLs in ``content[].image_url.url`` become uploaded files."""
    content = body.get("content") if isinstance(body, dict) else None
    for i, item in enumerate(content if isinstance(content, list) else []):
        image = item.get("image_url") if isinstance(item, dict) else None
        if isinstance(image, dict) and isinstance(image.get("url"), str):
            image["url"] = intake.image_source(image["url"], param=f"content[{i}].image_url.url")
    return body


@router.post(
    TASKS,
    openapi_extra=_CREATE_SCHEMA,
    responses=responses(ark.Created, _ERROR, 400, 401, 413),
)
async def create_task(request: Request) -> JSONResponse:
    app = state(request)
    owner = await app.auth.owner(request)
    intake = Intake(app, request)
    body = _inline_images(intake, await read_json(request))
    task, _ = await intake.submit(owner, body, ark.parse_create, fields=_FIELDS)
    return JSONResponse(ark.created_view(task))


@router.get(
    TASKS + "/{task_id}",
    openapi_extra=TASK_ID_PARAM,
    responses=responses(ark.ArkTask, _ERROR, 401, 404),
)
async def get_task(request: Request) -> Response:
    app = state(request)
    task = await app.tasks.get(await app.auth.owner(request), request.path_params["task_id"])
    return task_response(request, task, ark.view)


@router.get(TASKS, responses=responses(ark.TaskList, _ERROR, 400, 401))
async def list_tasks(
    request: Request,
    page_num: int = Query(1, ge=1, le=500),
    page_size: int = Query(10, ge=1, le=500),
    status: ark.ArkStatus | None = Query(None, alias="filter.status"),
    task_ids: list[str] = Query([], alias="filter.task_ids"),
    model: str | None = Query(None, alias="filter.model"),
) -> JSONResponse:
    app = state(request)
    owner = await app.auth.owner(request)
    query = ark.task_filter(ark.ListQuery(page_num, page_size, status, tuple(task_ids), model))
    page = await app.tasks.list_tasks(owner, query)
    total = await app.tasks.count_tasks(owner, query)
    links = [app.tasks.links(task) for task in page.items]
    return JSONResponse(ark.list_view(page.items, links, total))


@router.delete(TASKS + "/{task_id}", responses=responses(None, _ERROR, 401, 404, 409))
async def delete_task(task_id: str, request: Request) -> JSONResponse:
    """Queued: cancelled. Succeeded, failed or expired: deleted. Running or cancelled: 409."""
    app = state(request)
    await app.tasks.withdraw(await app.auth.owner(request), task_id)
    return JSONResponse({})
