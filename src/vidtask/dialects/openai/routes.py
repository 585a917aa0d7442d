"""Routes of OpenAI's Videos API: ``/v1/videos`` (create, retrieve, list, delete, remix,
content), so the official ``openai`` SDK works with only its ``base_url`` changed."""

from __future__ import annotations

import functools
import mimetypes
from typing import Any, Literal

from fastapi import Query, Request, Response
from starlette.responses import FileResponse, JSONResponse

from vidtask.core import errors
from vidtask.core.task import Status, Task
from vidtask.dialects import openai
from vidtask.store.base import TaskFilter
from vidtask.web import downloads
from vidtask.web.body import read_json
from vidtask.web.dialect import Dialect, Flow
from vidtask.web.documented import request_body, responses
from vidtask.web.intake import Intake, read_form_or_json
from vidtask.web.state import state
from vidtask.web.tasks import task_response

__all__ = ["DIALECT"]

#: Service field paths in errors, as OpenAI names them.
_FIELDS = {
    "input.opening_image": "input_reference",
    "input.prompt": "prompt",
    "input.width": "size",
    "input.height": "size",
    "input.seconds": "seconds",
}

DIALECT = Dialect(
    name="openai",
    prefixes=("/v1/videos",),
    parse=openai.parse_create,
    view=openai.view,
    error_view=openai.error_view,
    tags=["openai"],
    flows=(
        Flow(
            "/v1/videos",
            "200",
            "$response.body#/id",
            "video_id",
            (
                ("RetrieveVideo", "get", "/v1/videos/{video_id}"),
                ("RemixVideo", "post", "/v1/videos/{video_id}/remix"),
                ("DeleteVideo", "delete", "/v1/videos/{video_id}"),
            ),
        ),
    ),
)
router = DIALECT.router

_ERROR = openai.ErrorEnvelope

_VIDEO_ID = {
    "parameters": [
        {"name": "video_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
}
_CREATE_SCHEMA = request_body(openai.CreateVideo, "application/json", "multipart/form-data")
_REMIX_SCHEMA = request_body(openai.RemixVideo)


def _video(request: Request, task: Task, status_code: int = 200) -> Response:
    response = task_response(request, task, openai.view, status_code)
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:  # the SDK's poll() waits this long between retrieves
        response.headers["openai-poll-after-ms"] = str(int(retry_after) * 1000)
    return response


def _reference(intake: Intake, body: Any) -> Any:
    """Turn a ``data:`` URL in ``input_reference`` into an uploaded file's path."""
    if not isinstance(body, dict):
        return body
    reference = body.get("input_reference")
    if isinstance(reference, str):
        body["input_reference"] = intake.image_source(reference, param="input_reference")
    elif isinstance(reference, dict) and isinstance(reference.get("image_url"), str):
        reference["image_url"] = intake.image_source(
            reference["image_url"], param="input_reference.image_url"
        )
    return body


@router.post(
    "/v1/videos",
    openapi_extra=_CREATE_SCHEMA,
    responses=responses(openai.VideoObject, _ERROR, 400, 401, 413),
)
async def create_video(request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    intake = Intake(app, request)
    body = await read_form_or_json(request, intake, file_fields={"input_reference"})
    task, _ = await intake.submit(
        owner, _reference(intake, body), openai.parse_create, fields=_FIELDS
    )
    return _video(request, task)


@router.get(
    "/v1/videos/{video_id}",
    openapi_extra=_VIDEO_ID,
    responses=responses(openai.VideoObject, _ERROR, 401, 404),
)
async def retrieve_video(request: Request) -> Response:
    app = state(request)
    task = await app.tasks.get(await app.auth.owner(request), request.path_params["video_id"])
    return _video(request, task)


@router.get("/v1/videos", responses=responses(openai.VideoList, _ERROR, 400, 401))
async def list_videos(
    request: Request,
    after: str | None = Query(None, description="The last id of the previous page."),
    limit: int = Query(20, ge=1, le=100),
    order: Literal["asc", "desc"] = Query("desc"),
) -> JSONResponse:
    app = state(request)
    owner = await app.auth.owner(request)
    page = await app.tasks.list_tasks(owner, TaskFilter(after=after, limit=limit, order=order))
    links = [app.tasks.links(task) for task in page.items]
    return JSONResponse(openai.list_view(page.items, links, page.has_more))


@router.delete(
    "/v1/videos/{video_id}", responses=responses(openai.VideoDeleted, _ERROR, 401, 404, 409)
)
async def delete_video(video_id: str, request: Request) -> JSONResponse:
    app = state(request)
    await app.tasks.delete(await app.auth.owner(request), video_id)
    return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})


@router.post(
    "/v1/videos/{video_id}/remix",
    openapi_extra=_REMIX_SCHEMA,
    responses=responses(openai.VideoObject, _ERROR, 400, 401, 404),
)
async def remix_video(video_id: str, request: Request) -> Response:
    app = state(request)
    owner = await app.auth.owner(request)
    source = await app.tasks.get(owner, video_id)
    body = await read_json(request)
    parse = functools.partial(openai.parse_remix, source=source)
    task, _ = await Intake(app, request).submit(owner, body, parse)
    return _video(request, task)


@router.get(
    "/v1/videos/{video_id}/content",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/mp4": {}, "image/jpeg": {}}, "description": "The file"},
        **responses(None, _ERROR, 400, 401, 404),
    },
)
async def download_content(
    video_id: str,
    request: Request,
    variant: Literal["video", "thumbnail", "spritesheet"] = Query("video"),
) -> Response:
    """The video (MP4), its thumbnail or its spritesheet; supports HTTP Range."""
    app = state(request)
    task = await app.tasks.get(await app.auth.owner(request), video_id)
    if task.status is not Status.COMPLETED:
        raise errors.NotFound(
            f"video {video_id} is {task.status.value}; its content exists once it is completed",
            param="video_id",
        )
    name = (task.result or {}).get(variant)
    if not isinstance(name, str) or (found := await app.tasks.file(task.id, name)) is None:
        raise errors.NotFound(
            f"video {video_id} has no {variant}; it was rendered without one", param="variant"
        )
    return await downloads.artifact_response(found, name, request, _media_type)


def _media_type(file_name: str) -> str:
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"
