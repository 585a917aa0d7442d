"""Routes of Scenext's dialect: ``POST /api/gen_video`` and ``GET /api/get_status/{task_id}``
(seeds 000 and 002)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from starlette.responses import JSONResponse

from vidtask.dialects import scenext
from vidtask.web.body import read_json
from vidtask.web.dialect import Dialect, Flow
from vidtask.web.documented import request_body, responses
from vidtask.web.intake import Intake
from vidtask.web.state import state
from vidtask.web.tasks import TASK_ID_PARAM, task_response

__all__ = ["DIALECT"]

#: Service field paths in errors, as this dialect names them.
_FIELDS = {
    "webhook_url": "notify_url",
    "input.question": "question",
    "input.answer": "answer",
}

DIALECT = Dialect(
    name="scenext",
    prefixes=("/api/gen_video", "/api/get_status"),
    parse=scenext.parse_create,
    view=scenext.view,
    error_view=scenext.error_view,
    tags=["scenext"],
    payload=scenext.notify,
    callback_events=scenext.CALLBACK_EVENTS,
    flows=(
        Flow(
            "/api/gen_video",
            "200",
            "$response.body#/data/task_id",
            "task_id",
            (("GetStatus", "get", "/api/get_status/{task_id}"),),
        ),
    ),
)
router = DIALECT.router

_CREATE_SCHEMA = request_body(scenext.GenVideo)


def _inline_images(intake: Intake, body: Any) -> Any:
    """``data:`` URLs among the images become uploaded files."""
    if isinstance(body, dict):
        for field in ("questionImages", "answerImages"):
            images = body.get(field)
            if isinstance(images, list):
                body[field] = [
                    intake.image_source(src, param=f"{field}[{i}]") if isinstance(src, str) else src
                    for i, src in enumerate(images)
                ]
    return body


@router.post(
    "/api/gen_video",
    openapi_extra=_CREATE_SCHEMA,
    responses=responses(scenext.CreatedAnswer, scenext.ErrorAnswer, 400, 401, 413),
)
async def gen_video(request: Request) -> JSONResponse:
    app = state(request)
    owner = await app.auth.owner(request)
    intake = Intake(app, request)
    body = _inline_images(intake, await read_json(request))
    task, _ = await intake.submit(owner, body, scenext.parse_create, fields=_FIELDS)
    return JSONResponse(scenext.created_view(task))


@router.get(
    "/api/get_status/{task_id}",
    openapi_extra=TASK_ID_PARAM,
    responses=responses(scenext.StatusAnswer, scenext.ErrorAnswer, 401, 404),
)
async def get_status(request: Request) -> Response:
    app = state(request)
    task = await app.tasks.get(await app.auth.owner(request), request.path_params["task_id"])
    return task_response(request, task, scenext.view)
