"""Volcengine Ark's content generation tasks (Doubao Seedance), ``/api/v3/contents/generations``.

Create takes ``model`` (routing maps Seedance names to a local model), ``content[]`` (text, and
images with a ``role``), ``callback_url`` (it receives the GET body on every status change),
``return_last_frame``, ``execution_expires_after``, ``resolution``, ``ratio``, ``duration`` or
``frames``, ``seed``, ``camera_fixed`` and ``watermark``. The legacy flags inside the text
(``--rs 720p --rt 16:9 --dur 5 --fps 24 --seed 7 --cf false --wm true``) are read too; a field
in the body wins over the same flag in the text.

Timestamps are unix seconds; statuses are Ark's words (`vidtask.core.status`).

This package is pure; its HTTP routes and `Dialect` value are `vidtask.dialects.ark.routes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidtask.core import errors, status, validation
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Status, Task, TaskSpec
from vidtask.dialects.generation import Generation, model_input
from vidtask.dialects.timestamps import unix
from vidtask.store.base import TaskFilter

__all__ = [
    "ArkTask",
    "CreateTask",
    "Created",
    "ErrorEnvelope",
    "FPS",
    "ListQuery",
    "callback",
    "created_view",
    "dimensions",
    "error_view",
    "list_view",
    "TaskList",
    "parse_create",
    "task_filter",
    "usage_tokens",
    "view",
]

Resolution = Literal["480p", "720p", "1080p"]
Ratio = Literal["16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive"]
ArkStatus = Literal["queued", "running", "cancelled", "succeeded", "failed", "expired"]

#: Seedance renders 24 frames per second; ``frames`` counts in them.
FPS = 24
DEFAULT_EXPIRES_AFTER_S = 172_800
_SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}


class TextContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["text"]
    text: str = Field(max_length=20_000)


class ImageUrl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=10_000_000)


class ImageContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["image_url"]
    image_url: ImageUrl
    role: Literal["first_frame", "last_frame", "reference_image"] | None = None


Content = Annotated[TextContent | ImageContent, Field(discriminator="type")]


class CreateTask(BaseModel):
    """Body of ``POST /api/v3/contents/generations/tasks``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "doubao-seedance-1-0-pro-250528",
                    "content": [{"type": "text", "text": "A cat --rs 480p --dur 1"}],
                }
            ]
        },
    )

    model: str = Field(min_length=1, max_length=200)
    content: list[Content] = Field(min_length=1, max_length=20)
    callback_url: str | None = Field(None, min_length=1, max_length=2048)
    return_last_frame: bool = False
    execution_expires_after: int = Field(
        DEFAULT_EXPIRES_AFTER_S,
        ge=1,
        le=259_200,
        description="Seconds the task may take; then it becomes `expired`.",
    )
    resolution: Resolution | None = None
    ratio: Ratio | None = None
    duration: int | None = Field(None, ge=1, le=60)
    frames: int | None = Field(None, ge=1, le=60 * FPS)
    seed: int | None = Field(None, ge=-1, le=2**32 - 1)
    camera_fixed: bool | None = None
    watermark: bool | None = None


class TaskError(BaseModel):
    code: str
    message: str


class TaskContent(BaseModel):
    video_url: str
    last_frame_url: str | None = None


class Usage(BaseModel):
    completion_tokens: int
    total_tokens: int


class ArkTask(BaseModel):
    """A task as ``GET …/tasks/{id}`` answers it (responses; documents what `view` returns)."""

    id: str
    model: str
    status: ArkStatus
    error: TaskError | None
    content: TaskContent | None = None
    usage: Usage | None = None
    created_at: int
    updated_at: int
    seed: int | None = None
    resolution: str | None = None
    ratio: str | None = None
    duration: int | None = None
    frames: int | None = None
    framespersecond: int | None = None
    execution_expires_after: int | None = None


class TaskList(BaseModel):
    items: list[ArkTask]
    total: int


class Created(BaseModel):
    id: str


class ErrorBody(BaseModel):
    code: str
    message: str
    param: str | None
    type: str


class ErrorEnvelope(BaseModel):
    """Ark's error envelope."""

    error: ErrorBody


@dataclass(frozen=True, slots=True)
class ListQuery:
    """``GET …/tasks`` query: pages count from 1."""

    page_num: int = 1
    page_size: int = 10
    status: ArkStatus | None = None
    task_ids: tuple[str, ...] = ()
    model: str | None = None


# -- create ------------------------------------------------------------------------------------

#: Legacy text flag -> body field.
_FLAGS = {
    "rs": "resolution",
    "resolution": "resolution",
    "rt": "ratio",
    "ratio": "ratio",
    "dur": "duration",
    "duration": "duration",
    "fr": "frames",
    "frames": "frames",
    "fps": "framespersecond",
    "framespersecond": "framespersecond",
    "seed": "seed",
    "cf": "camera_fixed",
    "camerafixed": "camera_fixed",
    "wm": "watermark",
    "watermark": "watermark",
}
_FLAG = re.compile(r"(?:^|\s)--([A-Za-z]+)(?:\s+(-\d\S*|[^\s-]\S*))?")


def parse_create(
    body: Any, *, router: ModelRouter, idempotency_key: str | None, body_hash: str
) -> TaskSpec:
    request = validation.validated(CreateTask, body, tags={"text", "image_url"})
    prompt, fields = _prompt_and_flags(request)
    if request.duration is not None and request.frames is not None:
        raise errors.InvalidRequest("frames: give duration or frames, not both", param="frames")
    resolution = fields.get("resolution", "720p")
    ratio = fields.get("ratio", "16:9")
    width, height = dimensions(resolution, ratio)
    frames: int | None = fields.get("frames") if "duration" not in fields else None
    duration: int = fields.get("duration", 5)
    seconds = frames / FPS if frames is not None else float(duration)
    seed = fields.get("seed", -1)
    #: The client's own seed goes to the model (a provider that cannot take one refuses it);
    #: "random" (-1) is echoed as one derived from the request, so a replay gets the same.
    chosen = None if seed == -1 else seed
    if seed == -1:
        seed = int(body_hash[:8], 16) % 2**31
    opening_image, images = _images(request)
    model = router.resolve(request.model)
    generation = Generation(
        prompt=prompt or None,
        images=tuple(images),
        opening_image=opening_image,
        width=width,
        height=height,
        fps=FPS,
        seconds=seconds,
        seed=chosen,
    )
    echo: dict[str, Any] = {
        "seed": seed,
        "resolution": resolution,
        "ratio": ratio,
        "framespersecond": FPS,
        "camera_fixed": fields.get("camera_fixed", False),
        "watermark": fields.get("watermark", False),
        "return_last_frame": request.return_last_frame,
        "execution_expires_after": request.execution_expires_after,
    }
    echo.update({"duration": duration} if frames is None else {"frames": frames})
    return TaskSpec(
        model=model,
        input=model_input(model, generation),
        webhook_url=request.callback_url,
        webhook_format="ark",
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        external_ref={"requested_model": request.model, "ark": echo},
        expires_after_s=float(request.execution_expires_after),
    )


def dimensions(resolution: str, ratio: str) -> tuple[int, int]:
    """Output size: the resolution is the short side, the ratio sets the long one (even);
    ``adaptive`` is 16:9."""
    short = _SHORT_SIDE[resolution]
    a, b = (int(n) for n in ("16:9" if ratio == "adaptive" else ratio).split(":"))
    long = round(short * max(a, b) / min(a, b) / 2) * 2
    return (long, short) if a >= b else (short, long)


def _prompt_and_flags(request: CreateTask) -> tuple[str, dict[str, Any]]:
    """The prompt without its ``--flag value`` pairs, and the settings: flags first, then the
    body's fields over them."""
    texts = [(i, c.text) for i, c in enumerate(request.content) if isinstance(c, TextContent)]
    fields: dict[str, Any] = {}
    prompts = []
    for i, text in texts:
        param = f"content[{i}].text"
        for match in _FLAG.finditer(text):
            flag, value = match[1].lower(), match[2]
            field = _FLAGS.get(flag)
            if field is None:
                known = ", ".join(f"--{f}" for f in sorted(_FLAGS))
                raise errors.InvalidRequest(
                    f"{param}: unknown flag --{flag}; known flags: {known}", param=param
                )
            if value is None:
                raise errors.InvalidRequest(f"{param}: --{flag} needs a value", param=param)
            fields[field] = _flag_value(field, value, param=f"{param} --{flag}")
        prompts.append(_FLAG.sub(" ", text).strip())
    fields.pop("framespersecond", None)
    if "frames" in fields and "duration" in fields:
        raise errors.InvalidRequest("content: give --dur or --frames, not both", param="content")
    body = request.model_dump(
        include={"resolution", "ratio", "duration", "frames", "seed", "camera_fixed", "watermark"},
        exclude_none=True,
    )
    if "duration" in body:
        fields.pop("frames", None)
    if "frames" in body:
        fields.pop("duration", None)
    fields.update(body)
    return "\n\n".join(p for p in prompts if p), fields


def _flag_value(field: str, raw: str, *, param: str) -> Any:
    """One legacy flag's value, checked like the body field it stands for."""
    if field == "framespersecond":
        if raw != str(FPS):
            raise errors.InvalidRequest(f"{param}: only {FPS} frames per second", param=param)
        return FPS
    if field in ("camera_fixed", "watermark"):
        if raw.lower() not in ("true", "false"):
            raise errors.InvalidRequest(f"{param}: must be true or false", param=param)
        return raw.lower() == "true"
    try:
        checked = CreateTask.model_validate(
            {"model": "x", "content": [{"type": "text", "text": ""}], field: raw}
        )
    except ValidationError as exc:
        reason = validation.reason(exc.errors(include_url=False)[0])
        raise errors.InvalidRequest(f"{param}: {reason}", param=param) from None
    return getattr(checked, field)


def _images(request: CreateTask) -> tuple[str | None, list[str]]:
    """The first frame (an image with role first_frame, or a lone image without a role) and
    the other images in order, a last frame last."""
    pictures = [(i, c) for i, c in enumerate(request.content) if isinstance(c, ImageContent)]
    firsts = [c.image_url.url for _, c in pictures if c.role == "first_frame"]
    if len(pictures) == 1 and pictures[0][1].role is None:
        firsts = [pictures[0][1].image_url.url]
    if len(firsts) > 1:
        raise errors.InvalidRequest("content: more than one first_frame image", param="content")
    lasts = [c.image_url.url for _, c in pictures if c.role == "last_frame"]
    if len(lasts) > 1:
        raise errors.InvalidRequest("content: more than one last_frame image", param="content")
    first = firsts[0] if firsts else None
    middle = [
        c.image_url.url
        for _, c in pictures
        if c.role not in ("first_frame", "last_frame") and c.image_url.url != first
    ]
    return first, middle + lasts


# -- views -------------------------------------------------------------------------------------


def created_view(task: Task) -> dict[str, Any]:
    return {"id": task.id}


def usage_tokens(metadata: dict[str, Any]) -> int:
    """Seedance's count: width × height × frames per second × seconds / 1024, of the video
    actually made."""
    try:
        pixels = float(metadata["width"]) * float(metadata["height"])
        return int(pixels * float(metadata["fps"]) * float(metadata["duration"]) / 1024)
    except (KeyError, TypeError, ValueError):
        return 0


def view(task: Task, links: Links) -> dict[str, Any]:
    """``GET …/tasks/{id}``; a ``callback_url`` receives the same body."""
    echo = task.external_ref.get("ark") or {}
    code = task.error["code"] if task.error else None
    body: dict[str, Any] = {
        "id": task.id,
        "model": task.external_ref.get("requested_model", task.model),
        "status": status.dialect_status(status.Dialect.ARK, task.status, code),
        "error": None if task.error is None else dict(task.error),
    }
    if task.status is Status.COMPLETED:
        content = {"video_url": links.video_url}
        if echo.get("return_last_frame") and links.last_frame_url is not None:
            content["last_frame_url"] = links.last_frame_url
        body["content"] = content
        tokens = usage_tokens((task.result or {}).get("metadata", {}))
        body["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    body["created_at"] = unix(task.created_at)
    body["updated_at"] = unix(task.updated_at)
    for field in ("seed", "resolution", "ratio", "duration", "frames", "framespersecond"):
        if field in echo:
            body[field] = echo[field]
    if "execution_expires_after" in echo:
        body["execution_expires_after"] = echo["execution_expires_after"]
    return body


def callback(event_type: str, task: Task, links: Links) -> dict[str, Any]:
    """Ark's ``callback_url`` gets the body of its GET."""
    return view(task, links)


def list_view(tasks: list[Task], links: list[Links], total: int) -> dict[str, Any]:
    items = [view(task, link) for task, link in zip(tasks, links, strict=True)]
    return {"items": items, "total": total}


_ARK_CODES: dict[int, tuple[str, str]] = {
    400: ("InvalidParameter", "BadRequest"),
    401: ("AuthenticationError", "Unauthorized"),
    404: ("ResourceNotFound", "NotFound"),
    409: ("OperationDenied", "Conflict"),
    413: ("InvalidParameter", "BadRequest"),
    429: ("RateLimitExceeded", "TooManyRequests"),
}


def error_view(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    """Ark's error envelope: ``{"error": {"code", "message", "param", "type"}}``; ``code`` is
    Ark's (``InvalidParameter``, ``MissingParameter``, ``ResourceNotFound``, …)."""
    code, kind = _ARK_CODES.get(exc.http_status, ("InternalServiceError", "InternalServerError"))
    if code == "InvalidParameter" and exc.message.endswith(": is required"):
        code = "MissingParameter"
    return exc.http_status, {
        "error": {"code": code, "message": exc.message, "param": exc.param, "type": kind}
    }


#: Ark's status word -> the canonical filter terms (``expired`` is ``failed`` + its code).
_STATUS_FILTERS: dict[str, dict[str, Any]] = {
    "queued": {"statuses": (Status.QUEUED,)},
    "running": {"statuses": (Status.IN_PROGRESS,)},
    "succeeded": {"statuses": (Status.COMPLETED,)},
    "cancelled": {"statuses": (Status.CANCELLED,)},
    "failed": {"statuses": (Status.FAILED,), "not_error_code": "expired"},
    "expired": {"statuses": (Status.FAILED,), "error_code": "expired"},
}


def task_filter(query: ListQuery) -> TaskFilter:
    """The store query behind ``GET …/tasks``: newest first, page ``page_num`` of
    ``page_size``."""
    ids = tuple(i.strip() for raw in query.task_ids for i in raw.split(",") if i.strip())
    return TaskFilter(
        limit=query.page_size,
        offset=(query.page_num - 1) * query.page_size,
        ids=ids,
        requested_model=query.model,
        **(_STATUS_FILTERS[query.status] if query.status else {}),
    )
