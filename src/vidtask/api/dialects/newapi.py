"""New API's ``/v1/video/generations`` dialect (seed 003).

Create takes ``model`` plus a ``prompt`` or a ``timeline``. A prompt that is a JSON timeline is
rendered as one; any other prompt becomes a title card video of that text.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidtask.core import errors, status, validation
from vidtask.core.task import Links, Task, TaskSpec

__all__ = ["CreateGeneration", "error_view", "parse_create", "text_card_timeline", "view"]


class CreateGeneration(BaseModel):
    model_config = ConfigDict(extra="ignore")  # relays forward provider-specific extras

    model: str = Field("timeline", description="Model name; `timeline` renders with FFmpeg.")
    prompt: str | None = Field(None, max_length=20_000)
    timeline: dict[str, Any] | None = None
    duration: float = Field(5.0, gt=0, le=60, description="Seconds, for a text prompt.")
    width: int = Field(1280, ge=16, le=4096)
    height: int = Field(720, ge=16, le=4096)
    fps: int = Field(30, ge=1, le=60)


def text_card_timeline(
    text: str, *, width: int, height: int, fps: int, duration: float
) -> dict[str, Any]:
    """A plain, readable video of a text prompt: the text centred on a dark card."""
    size = max(24, min(width, height) // 12)
    fade = min(0.5, duration / 4)
    return {
        "output": {"width": width - width % 2, "height": height - height % 2, "fps": fps},
        "tracks": [
            {
                "clips": [
                    {"asset": {"type": "color", "color": "#101828"}, "start": 0, "length": duration}
                ]
            },
            {
                "clips": [
                    {
                        "asset": {
                            "type": "text",
                            "text": text,
                            "font_size": size,
                            "max_width": 0.8,
                        },
                        "start": 0,
                        "length": duration,
                        "fade_in": fade,
                        "fade_out": fade,
                    }
                ]
            },
        ],
    }


def parse_create(body: Any, *, idempotency_key: str | None, body_hash: str) -> TaskSpec:
    try:
        request = CreateGeneration.model_validate(body)
    except ValidationError as exc:
        raise validation.invalid_request(exc) from exc
    timeline = request.timeline
    if timeline is None and request.prompt is not None:
        timeline = _timeline_in_prompt(request.prompt)
        if timeline is None:
            timeline = text_card_timeline(
                request.prompt,
                width=request.width,
                height=request.height,
                fps=request.fps,
                duration=request.duration,
            )
    if timeline is None:
        raise errors.InvalidRequest(
            "prompt: either `prompt` or `timeline` is required", param="prompt"
        )
    return TaskSpec(
        model=request.model,
        input=timeline,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
    )


def _timeline_in_prompt(prompt: str) -> dict[str, Any] | None:
    text = prompt.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "tracks" in value else None


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
