"""The tools' structured output (pydantic), built from the native task view.

Every backend hands tools a `vidtask.client.models.Task` (the ``/v1/tasks`` JSON, typed), so
the in-process and the remote backends render alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel, Field

from vidtask.client import models as client_models

__all__ = [
    "DoubaoAnswer",
    "DoubaoData",
    "Frame",
    "ModelInfo",
    "ModelList",
    "TaskFailure",
    "Video",
    "VideoList",
    "doubao_answer",
    "next_step",
    "video",
]

TaskStatus = Literal["queued", "in_progress", "completed", "failed", "cancelled"]
DoubaoStatus = Literal["pending", "processing", "success", "failed"]

#: vidtask status to seed 001's four (a cancelled task is a failed one there).
DOUBAO_STATUS: dict[str, DoubaoStatus] = {
    "queued": "pending",
    "in_progress": "processing",
    "completed": "success",
    "failed": "failed",
    "cancelled": "failed",
}


class Frame(BaseModel):
    """A preview frame, available while the video renders."""

    id: str
    url: str


class TaskFailure(BaseModel):
    code: str = Field(description="Canonical error code, e.g. render_failed.")
    message: str


class Video(BaseModel):
    """A video generation task."""

    task_id: str
    status: TaskStatus
    done: bool = Field(description="True once the task is completed, failed or cancelled.")
    model: str
    stage: str = Field(description="What the task is doing now, e.g. queued, rendering.")
    progress: float = Field(ge=0, le=100, description="Percent done.")
    eta_seconds: float | None = Field(None, description="Estimated seconds left, when known.")
    video_url: str | None = Field(None, description="Signed MP4 URL, once completed.")
    cover_url: str | None = Field(None, description="Signed cover image URL, once completed.")
    video_file: str | None = Field(
        None, description="Path of the video on this machine (vidtask mcp on the local store)."
    )
    previews: list[Frame] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="Tell the user these, e.g. that the model is a local title-card stand-in.",
    )
    error: TaskFailure | None = None
    created_at: datetime
    completed_at: datetime | None = None
    next_step: str = Field(description="What to do next with this task.")


class VideoList(BaseModel):
    videos: list[Video]
    has_more: bool = Field(description="More tasks match than were returned.")


class ModelInfo(BaseModel):
    id: str
    description: str
    alias_of: str | None = Field(None, description="The model this name is an alias of.")


class ModelList(BaseModel):
    models: list[ModelInfo]


class DoubaoData(BaseModel):
    task_id: str
    status: DoubaoStatus
    video_url: str | None = None
    cover_url: str | None = None
    error_msg: str | None = None
    created_at: str | None = Field(None, description="ISO 8601, UTC.")
    finished_at: str | None = Field(None, description="ISO 8601, UTC.")


class DoubaoAnswer(BaseModel):
    """Seed 001's ``query_video_task`` answer: ``{code, msg, data}``; code 0 is success."""

    code: int
    msg: str
    data: DoubaoData


def next_step(task: client_models.Task) -> str:
    if task.status == "completed":
        return "The video is ready: show the user video_url as a Markdown link."
    if task.status == "failed":
        return "The task failed: tell the user the error; fix the request and generate again."
    if task.status == "cancelled":
        return "The task was cancelled; generate again if the user still wants the video."
    return (
        f"Call wait_for_video(task_id={task.id!r}) to wait up to 50 s with progress, or "
        "query_video_status later; repeat until done."
    )


def video(task: client_models.Task, video_file: str | None = None) -> Video:
    result = task.result
    return Video(
        task_id=task.id,
        status=_status(task.status),
        done=task.terminal,
        model=task.model,
        stage=task.stage,
        progress=task.progress,
        eta_seconds=task.eta_seconds,
        video_url=None if result is None else result.video_url,
        cover_url=None if result is None else result.cover_url,
        video_file=video_file,
        previews=[Frame(id=p.id, url=p.url) for p in task.previews],
        warnings=task.warnings,
        error=None
        if task.error is None
        else TaskFailure(code=task.error.code, message=task.error.message),
        created_at=task.created_at,
        completed_at=task.completed_at,
        next_step=next_step(task),
    )


def doubao_answer(task: client_models.Task) -> DoubaoAnswer:
    result = task.result
    error = task.error.message if task.error is not None else None
    if task.status == "cancelled" and error is None:
        error = "the task was cancelled"
    return DoubaoAnswer(
        code=0,
        msg="success",
        data=DoubaoData(
            task_id=task.id,
            status=DOUBAO_STATUS[task.status],
            video_url=None if result is None else result.video_url,
            cover_url=None if result is None else result.cover_url,
            error_msg=error,
            created_at=_iso(task.created_at),
            finished_at=_iso(task.completed_at),
        ),
    )


def _status(value: str) -> TaskStatus:
    if value not in DOUBAO_STATUS:  # a newer server's status: show it as still running
        return "in_progress"
    return cast(TaskStatus, value)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat().replace("+00:00", "Z")
