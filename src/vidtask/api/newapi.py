"""Routes of New API's dialect: ``/v1/video/generations`` (seed 003)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vidtask.api.errors import read_json
from vidtask.api.intake import Intake
from vidtask.api.native import TASK_ID_PARAM, task_response
from vidtask.api.state import state
from vidtask.dialects import newapi

__all__ = ["router"]

router = APIRouter(tags=["new-api"])

_CREATE_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": newapi.CreateGeneration.model_json_schema()}},
    }
}


@router.post("/v1/video/generations", openapi_extra=_CREATE_SCHEMA)
async def create_generation(request: Request) -> Response:
    app = state(request)
    owner = app.auth.owner(request)
    body = await read_json(request)
    # A timeline's field paths are under `timeline` here, not the native `input`.
    fields = {"input": "timeline"} if isinstance(body, dict) and "timeline" in body else None
    task = await Intake(app, request).submit(owner, body, newapi.parse_create, fields=fields)
    return task_response(request, task, newapi.view)


@router.get("/v1/video/generations/{task_id}", openapi_extra=TASK_ID_PARAM)
async def get_generation(request: Request) -> Response:
    app = state(request)
    task = app.service.get(app.auth.owner(request), request.path_params["task_id"])
    return task_response(request, task, newapi.view)
