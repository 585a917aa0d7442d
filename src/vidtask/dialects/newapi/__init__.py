"""New API's ``/v1/video/generations`` dialect (seed 003).

Create takes ``model`` plus a ``prompt`` or a ``timeline``; the model name is routed like every
other dialect's (``sora-2`` is an alias of ``slides``). For ``timeline``, a prompt that is a JSON
timeline is rendered as one and any other prompt becomes a title card video of that text.

This package is pure; its HTTP routes and `Dialect` value are `vidtask.dialects.newapi.routes`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vidtask.core import errors, status, validation
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Task, TaskSpec
from vidtask.dialects.generation import Generation, model_input

__all__ = ["CreateGeneration", "error_view", "parse_create", "view"]


class CreateGeneration(BaseModel):
    model_config = ConfigDict(extra="ignore")  # relays forward provider-specific extras

    model: str = Field(
        "timeline",
        description="Model name or alias (see GET /v1/models); `timeline` renders a timeline "
        "with FFmpeg, `slides` turns a prompt into title cards.",
    )
    prompt: str | None = Field(None, max_length=20_000)
    timeline: dict[str, Any] | None = Field(None, description="A timeline (model `timeline`).")
    duration: float | None = Field(
        None, gt=0, le=60, description="Seconds, for a prompt (default: 5, or the text's length)."
    )
    width: int = Field(1280, ge=16, le=4096)
    height: int = Field(720, ge=16, le=4096)
    fps: int = Field(30, ge=1, le=60)


def parse_create(
    body: Any, *, router: ModelRouter, idempotency_key: str | None, body_hash: str
) -> TaskSpec:
    request = validation.validated(CreateGeneration, body)
    model = router.resolve(request.model)
    if request.timeline is not None:
        if model != "timeline":
            raise errors.InvalidRequest(
                f"timeline: model {request.model!r} takes a prompt, not a timeline; send the "
                "timeline with model `timeline`",
                param="timeline",
            )
        data = request.timeline
    elif request.prompt is not None:
        generation = Generation(
            prompt=request.prompt,
            width=request.width,
            height=request.height,
            fps=request.fps,
            seconds=request.duration,
        )
        data = model_input(model, generation)
    else:
        raise errors.InvalidRequest(
            "prompt: either `prompt` or `timeline` is required", param="prompt"
        )
    return TaskSpec(
        model=model,
        input=data,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        external_ref={"requested_model": request.model},
    )


def view(task: Task, links: Links) -> dict[str, Any]:
    metadata = (task.result or {}).get("metadata", {})
    body: dict[str, Any] = {
        "task_id": task.id,
        "status": status.dialect_status(status.Dialect.NEWAPI, task.status),
        "url": links.video_url or "",
        "format": (task.result or {}).get("format", "mp4"),
        "metadata": {
            "duration": metadata.get("duration"),
            "fps": metadata.get("fps"),
            "width": metadata.get("width"),
            "height": metadata.get("height"),
            "seed": metadata.get("seed"),
        },
    }
    if task.warnings:  # not in seed 003's schema, which leaves room for more fields
        body["warnings"] = task.warnings
    if task.error is not None:
        body["error"] = {
            "code": status.error_number(task.error["code"]),
            "message": f"{task.error['code']}: {task.error['message']}",
        }
    return body


def error_view(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    kind = "invalid_request_error" if exc.http_status < 500 else "server_error"
    return exc.http_status, {
        "error": {"message": exc.message, "type": kind, "param": exc.param, "code": exc.code}
    }
