"""Scenext's dialect (seeds 000 and 002): ``POST /api/gen_video``, ``GET /api/get_status/{id}``.

A question and its answer (with images) become an explainer video of the ``slides`` model, or
of whatever model the request names. ``quality`` h/m/l is the output resolution. Every answer
is wrapped in ``{"status": "success", "data": ...}``; errors in ``{"status": "error", ...}``.

This package is pure; its HTTP routes and `Dialect` value are `vidtask.dialects.scenext.routes`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vidtask.core import errors, status, validation
from vidtask.core.events import TERMINAL_EVENTS
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Status, Task, TaskSpec
from vidtask.dialects.generation import Generation, Quality, model_input

__all__ = [
    "CALLBACK_EVENTS",
    "CreatedAnswer",
    "ErrorAnswer",
    "GenVideo",
    "QUALITIES",
    "StatusAnswer",
    "created_view",
    "error_view",
    "notify",
    "parse_create",
    "view",
]

#: quality -> (width, height, the slides model's quality). ``l`` is 480p, not vidtask's
#: ``draft`` (a third of the size at 15 fps would be 284x160).
QUALITIES: dict[str, tuple[int, int, Quality]] = {
    "l": (854, 480, "standard"),
    "m": (1280, 720, "standard"),
    "h": (1920, 1080, "high"),
}


class GenVideo(BaseModel):
    """Body of ``POST /api/gen_video``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"question": "What is 1+1?", "answer": "2", "quality": "l"}]
        },
    )

    question: str = Field(min_length=1, max_length=20_000)
    answer: str | None = Field(None, max_length=20_000)
    questionImages: list[str] = Field(default_factory=list, max_length=20)
    answerImages: list[str] = Field(default_factory=list, max_length=20)
    quality: Literal["h", "m", "l"] = Field("m", description="h 1080p, m 720p, l 480p.")
    notify_url: str | None = Field(None, min_length=1, max_length=2048)
    model: str = Field("slides", min_length=1, max_length=200)


class Frame(BaseModel):
    id: str
    image: str


class Result(BaseModel):
    video_url: str
    cover_url: str | None


class TaskError(BaseModel):
    code: str
    message: str


class StatusData(BaseModel):
    task_id: str
    status: Literal["IN_PROGRESS", "COMPLETED", "FAILED"]
    progress: list[Frame]
    result: Result | None = None
    error: TaskError | None = None


class StatusAnswer(BaseModel):
    """The ``get_status`` answer (responses; documents what `view` returns)."""

    status: Literal["success"]
    data: StatusData


class CreatedData(BaseModel):
    task_id: str


class CreatedAnswer(BaseModel):
    status: Literal["success"]
    data: CreatedData


class ErrorAnswer(BaseModel):
    status: Literal["error"]
    message: str
    code: str
    param: str | None


def parse_create(
    body: Any, *, router: ModelRouter, idempotency_key: str | None, body_hash: str
) -> TaskSpec:
    request = validation.validated(GenVideo, body)
    for field in ("questionImages", "answerImages"):
        for i, src in enumerate(getattr(request, field)):
            if not src.strip():
                raise errors.InvalidRequest(f"{field}[{i}]: must not be empty", param=field)
    model = router.resolve(request.model)
    width, height, quality = QUALITIES[request.quality]
    generation = Generation(
        question=request.question,
        answer=request.answer,
        images=(*request.questionImages, *request.answerImages),
        width=width,
        height=height,
        quality=quality,
    )
    return TaskSpec(
        model=model,
        input=model_input(model, generation),
        webhook_url=request.notify_url,
        webhook_format="scenext",
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        external_ref={"requested_model": request.model},
    )


def created_view(task: Task) -> dict[str, Any]:
    """The answer to ``gen_video``."""
    return {"status": "success", "data": {"task_id": task.id}}


def view(task: Task, links: Links) -> dict[str, Any]:
    """The answer to ``get_status`` (seed 002): preview frames as they appear, then the result."""
    data: dict[str, Any] = {
        "task_id": task.id,
        "status": status.dialect_status(status.Dialect.SCENEXT, task.status),
        "progress": [{"id": p["id"], "image": p["url"]} for p in links.previews],
    }
    if task.status is Status.COMPLETED:
        data["result"] = {"video_url": links.video_url, "cover_url": links.cover_url}
    if task.error is not None:
        data["error"] = {"code": task.error["code"], "message": task.error["message"]}
    return {"status": "success", "data": data}


#: ``notify_url`` is called when the video is done.
CALLBACK_EVENTS = TERMINAL_EVENTS


def notify(event_type: str, task: Task, links: Links) -> dict[str, Any]:
    """Scenext's ``notify_url`` gets the ``get_status`` answer."""
    return view(task, links)


def error_view(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    """``{"status": "error", "message", "code", "param"}`` with the HTTP status of the error."""
    return exc.http_status, {
        "status": "error",
        "message": exc.message,
        "code": exc.code,
        "param": exc.param,
    }
