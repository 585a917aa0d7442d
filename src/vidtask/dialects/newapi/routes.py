"""Routes of New API's dialect: ``/v1/video/generations`` (seed 003)."""

from __future__ import annotations

from fastapi import Request, Response

from vidtask.dialects import newapi
from vidtask.web.body import read_json
from vidtask.web.dialect import Dialect, Flow
from vidtask.web.intake import Intake
from vidtask.web.state import state
from vidtask.web.tasks import TASK_ID_PARAM, task_response

__all__ = ["DIALECT"]

DIALECT = Dialect(
    name="newapi",
    prefixes=("/v1/video/generations",),
    parse=newapi.parse_create,
    view=newapi.view,
    error_view=newapi.error_view,
    tags=["new-api"],
    flows=(
        Flow(
            "/v1/video/generations",
            "200",
            "$response.body#/task_id",
            "task_id",
            (("GetGeneration", "get", "/v1/video/generations/{task_id}"),),
        ),
    ),
)
router = DIALECT.router

_CREATE_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": newapi.CreateGeneration.model_json_schema()}},
    }
}


@router.post("/v1/video/generations", openapi_extra=_CREATE_SCHEMA)
async def create_generation(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    body = await read_json(request)
    # A timeline's field paths are under `timeline` here, not the native `input`.
    fields = {"input": "timeline"} if isinstance(body, dict) and "timeline" in body else None
    task, _ = await Intake(app, request).submit(owner, body, newapi.parse_create, fields=fields)
    return task_response(request, task, newapi.view)


@router.get("/v1/video/generations/{task_id}", openapi_extra=TASK_ID_PARAM)
async def get_generation(request: Request) -> Response:
    app = state(request)
    task = await app.tasks.get(await app.auth.owner(request), request.path_params["task_id"])
    return task_response(request, task, newapi.view)
