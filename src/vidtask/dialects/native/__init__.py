"""The native dialect (``/v1/tasks``), pure: the canonical task, nearly as stored, and the
Standard Webhooks event every endpoint (and a native task's ``webhook_url``) receives.

This package is pure; its HTTP routes and `Dialect` value are `vidtask.dialects.native.routes`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vidtask.core import errors, validation
from vidtask.core.routing import ModelRouter
from vidtask.core.task import Links, Task, TaskSpec
from vidtask.dialects.timestamps import iso

__all__ = ["CreateTask", "create_body", "error_view", "event_payload", "parse_create", "view"]


class CreateTask(BaseModel):
    """Body of ``POST /v1/tasks``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("timeline", description="Which backend renders it; see GET /v1/models.")
    input: dict[str, Any] = Field(description="The model's input, e.g. a timeline.")
    priority: int = Field(0, ge=-100, le=100, description="Higher runs first.")
    webhook_url: str | None = Field(None, max_length=2048)


def parse_create(
    body: Any, *, router: ModelRouter, idempotency_key: str | None, body_hash: str
) -> TaskSpec:
    """The model is kept as named (the service resolves it), so ``router`` goes unused."""
    request = validation.validated(CreateTask, body)
    return TaskSpec(
        model=request.model,
        input=request.input,
        priority=request.priority,
        webhook_url=request.webhook_url,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
    )


def create_body(task: Task) -> dict[str, Any]:
    """A ``POST /v1/tasks`` body that asks for ``task`` again."""
    body: dict[str, Any] = {
        "model": task.external_ref.get("requested_model", task.model),
        "input": task.input,
        "priority": task.priority,
    }
    if task.webhook_url is not None:
        body["webhook_url"] = task.webhook_url
    return body


def view(task: Task, links: Links) -> dict[str, Any]:
    result = None
    if task.result is not None:
        result = {
            "video_url": links.video_url,
            "cover_url": links.cover_url,
            "format": task.result.get("format"),
            "metadata": task.result.get("metadata", {}),
            "warnings": task.warnings,
        }
    view = {
        "id": task.id,
        "object": "task",
        "model": task.model,
        "status": task.status.value,
        "stage": task.stage,
        "progress": round(task.progress, 1),
        "eta_seconds": task.eta_seconds,
        "priority": task.priority,
        "attempt": task.attempt,
        "version": task.version,
        "cancel_requested": task.cancel_requested,
        "previews": list(links.previews),
        "warnings": task.warnings,
        "result": result,
        "error": task.error,
        "webhook_url": task.webhook_url,
        "created_at": iso(task.created_at),
        "started_at": iso(task.started_at),
        "completed_at": iso(task.completed_at),
        "updated_at": iso(task.updated_at),
    }
    checkpoint = task.external_ref.get("checkpoint") or {}
    upstream = checkpoint.get("upstream")
    if isinstance(upstream, dict) and upstream.get("id"):
        # A relayed task: who generates it, their id for it, whether `progress` is theirs or
        # estimated here from the time it has been running, and where the provider says so,
        # its queue position and last log lines.
        live = checkpoint.get("upstream_live") or {}
        view["upstream"] = {
            "provider": upstream.get("provider"),
            "task_id": upstream.get("id"),
            "progress": upstream.get("progress", "estimated"),
            "queue_position": live.get("queue_position"),
            "logs": live.get("logs", []),
        }
    return view


def error_view(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    return exc.http_status, {
        "error": {"code": exc.code, "message": exc.message, "param": exc.param}
    }


def event_payload(event_type: str, task: Task, links: Links) -> dict[str, Any]:
    return {"type": event_type, "timestamp": iso(task.updated_at), "data": view(task, links)}
