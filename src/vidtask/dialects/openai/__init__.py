"""OpenAI's Videos API (``/v1/videos``), as the official ``openai`` SDK speaks it.

Create takes ``prompt``, ``model`` (``sora-2`` by default; routing maps it to a local model),
``seconds`` (a string such as ``"4"``), ``size`` (``"WxH"``) and ``input_reference`` (an image:
the route turns an upload or a ``data:`` URL into a local path first; an ``image_url`` may be an
http(s) URL). The image becomes the opening image of a ``slides`` video.

What the client sent is kept in ``external_ref["openai"]``, so the Video object echoes it and a
remix can re-run it with a new prompt.

This package is pure; its HTTP routes and `Dialect` value are `vidtask.dialects.openai.routes`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vidtask.core import errors, status, validation
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Task, TaskSpec
from vidtask.dialects.generation import Generation, model_input
from vidtask.dialects.timestamps import unix

__all__ = [
    "CreateVideo",
    "DEFAULT_MODEL",
    "ErrorEnvelope",
    "RemixVideo",
    "VideoDeleted",
    "VideoList",
    "VideoObject",
    "error_view",
    "list_view",
    "parse_create",
    "parse_remix",
    "view",
]

#: What the SDK documents as the default model (and the default size and seconds).
DEFAULT_MODEL = "sora-2"
DEFAULT_SIZE = "720x1280"
DEFAULT_SECONDS = "4"

_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")


class ImageReference(BaseModel):
    """The newer ``input_reference`` object: an image URL (or a file id, which vidtask lacks)."""

    model_config = ConfigDict(extra="forbid")

    image_url: str | None = Field(None, min_length=1, max_length=4096)
    file_id: str | None = None


class CreateVideo(BaseModel):
    """Body of ``POST /v1/videos`` (JSON, or the same fields as multipart form data)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"prompt": "A calico cat playing a piano", "size": "160x90", "seconds": "1"}
            ]
        },
    )

    prompt: str = Field(min_length=1, max_length=20_000)
    model: str = Field(DEFAULT_MODEL, min_length=1, max_length=200)
    seconds: str = Field(DEFAULT_SECONDS, description='Duration in seconds, e.g. "4".')
    size: str = Field(DEFAULT_SIZE, description='Output size "WxH", e.g. "1280x720".')
    input_reference: str | ImageReference | None = Field(
        None, description="An image: an http(s) URL, or an uploaded file (multipart)."
    )

    @field_validator("seconds", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> str:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f'must be a number of seconds such as "4", not {value!r}') from None
        if not 0 < number <= 3600:
            raise ValueError("must be more than 0 and at most 3600")
        return str(int(number)) if number.is_integer() else str(number)

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        match = _SIZE.fullmatch(value.strip())
        if match is None:
            raise ValueError(f'must be "WIDTHxHEIGHT" such as "1280x720", not {value!r}')
        width, height = int(match[1]), int(match[2])
        if not (16 <= width <= 4096 and 16 <= height <= 4096):
            raise ValueError("width and height must be between 16 and 4096")
        if width % 2 or height % 2:
            raise ValueError("width and height must be even numbers")
        return f"{width}x{height}"


class RemixVideo(BaseModel):
    """Body of ``POST /v1/videos/{video_id}/remix``."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=20_000)


class VideoError(BaseModel):
    code: str
    message: str


class VideoObject(BaseModel):
    """The Video object (responses; documents what `view` returns)."""

    id: str
    object: Literal["video"]
    model: str
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int = Field(ge=0, le=100)
    created_at: int
    completed_at: int | None
    expires_at: int | None
    prompt: str | None
    size: str
    seconds: str
    remixed_from_video_id: str | None
    error: VideoError | None


class VideoList(BaseModel):
    object: Literal["list"]
    data: list[VideoObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"]
    deleted: bool


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None
    code: str


class ErrorEnvelope(BaseModel):
    """OpenAI's error envelope."""

    error: ErrorBody


def parse_create(
    body: Any, *, router: ModelRouter, idempotency_key: str | None, body_hash: str
) -> TaskSpec:
    request = validation.validated(CreateVideo, body)
    return _spec(
        request,
        router=router,
        remixed_from=None,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )


def parse_remix(
    body: Any,
    source: Task,
    *,
    router: ModelRouter,
    idempotency_key: str | None,
    body_hash: str,
) -> TaskSpec:
    """A new video from ``source``'s request with a new prompt."""
    remix = validation.validated(RemixVideo, body)
    sent = source.external_ref.get("openai")
    if not isinstance(sent, dict):
        raise errors.InvalidRequest(
            f"video_id: {source.id} was not created through /v1/videos, so it has no request "
            "to remix",
            param="video_id",
        )
    request = CreateVideo(
        prompt=remix.prompt,
        model=str(source.external_ref.get("requested_model", source.model)),
        seconds=sent["seconds"],
        size=sent["size"],
        input_reference=sent.get("input_reference"),
    )
    return _spec(
        request,
        router=router,
        remixed_from=source.id,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )


def _spec(
    request: CreateVideo,
    *,
    router: ModelRouter,
    remixed_from: str | None,
    idempotency_key: str | None,
    body_hash: str,
) -> TaskSpec:
    model = router.resolve(request.model)
    width, height = (int(n) for n in request.size.split("x"))
    opening_image = _reference_url(request.input_reference)
    generation = Generation(
        prompt=request.prompt,
        opening_image=opening_image,
        width=width,
        height=height,
        seconds=float(request.seconds),
    )
    return TaskSpec(
        model=model,
        input=model_input(model, generation),
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        external_ref={
            "requested_model": request.model,
            "openai": {
                "prompt": request.prompt,
                "size": request.size,
                "seconds": request.seconds,
                "input_reference": opening_image,
                "remixed_from_video_id": remixed_from,
            },
        },
    )


def _reference_url(reference: str | ImageReference | None) -> str | None:
    if reference is None or isinstance(reference, str):
        return reference
    if reference.file_id is not None:
        raise errors.InvalidRequest(
            "input_reference.file_id: vidtask has no Files API; upload the image as "
            "input_reference or pass input_reference.image_url",
            param="input_reference.file_id",
        )
    if reference.image_url is None:
        raise errors.InvalidRequest(
            "input_reference: give image_url (or upload a file)", param="input_reference"
        )
    return reference.image_url


def view(task: Task, links: Links) -> dict[str, Any]:
    """The Video object, exactly the fields OpenAI documents."""
    sent = task.external_ref.get("openai") or {}
    error = None
    if task.error is not None:
        error = {"code": task.error["code"], "message": task.error["message"]}
    return {
        "id": task.id,
        "object": "video",
        "model": task.external_ref.get("requested_model", task.model),
        "status": status.dialect_status(status.Dialect.OPENAI, task.status),
        "progress": int(task.progress),
        "created_at": unix(task.created_at),
        "completed_at": unix(task.completed_at) if task.terminal else None,
        # Artifacts stay until the video is deleted: they do not expire.
        "expires_at": None,
        "prompt": sent.get("prompt", task.input.get("prompt")),
        "size": sent.get("size") or _size(task),
        "seconds": sent.get("seconds") or _seconds(task),
        "remixed_from_video_id": sent.get("remixed_from_video_id"),
        "error": error,
    }


def list_view(tasks: list[Task], links: list[Links], has_more: bool) -> dict[str, Any]:
    data = [view(task, link) for task, link in zip(tasks, links, strict=True)]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def _size(task: Task) -> str:
    """For a video made through another dialect: the probed size, else the size asked for."""
    metadata = (task.result or {}).get("metadata", {})
    output = task.input.get("output", task.input)
    width = metadata.get("width") or output.get("width")
    height = metadata.get("height") or output.get("height")
    return f"{width}x{height}" if width and height else ""


def _seconds(task: Task) -> str:
    metadata = (task.result or {}).get("metadata", {})
    seconds = metadata.get("duration") or task.input.get("seconds") or _timeline_length(task.input)
    number = round(float(seconds or 0), 2)
    return str(int(number)) if number.is_integer() else str(number)


def _timeline_length(data: dict[str, Any]) -> float:
    ends = [
        float(clip.get("start", 0)) + float(clip.get("length") or 0)
        for track in data.get("tracks", [])
        for clip in track.get("clips", [])
    ]
    return max(ends, default=0.0)


def error_view(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    """OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    if exc.http_status == 401:
        kind = "authentication_error"
    elif exc.http_status == 429:
        kind = "rate_limit_error"
    elif exc.http_status < 500:
        kind = "invalid_request_error"
    else:
        kind = "server_error"
    return exc.http_status, {
        "error": {"message": exc.message, "type": kind, "param": exc.param, "code": exc.code}
    }
