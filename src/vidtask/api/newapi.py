"""Routes of New API's dialect: ``/v1/video/generations`` (seed 003)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vidtask.api.dialects import newapi
from vidtask.api.native import TASK_ID_PARAM, submit, task_response
from vidtask.api.state import state

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
    task, _ = await submit(request, newapi.parse_create)
    return task_response(request, task, newapi.view)


@router.get("/v1/video/generations/{task_id}", openapi_extra=TASK_ID_PARAM)
async def get_generation(request: Request) -> Response:
    app = state(request)
    task = app.service.get(app.auth.owner(request), request.path_params["task_id"])
    return task_response(request, task, newapi.view)
