"""Typed views of the native API's JSON. Unknown fields are kept (servers may be newer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

__all__ = ["Delivery", "Preview", "Task", "TaskError", "TaskEvent", "TaskResult", "WebhookEndpoint"]

TERMINAL = frozenset({"completed", "failed", "cancelled"})


def _iso(when: datetime) -> str:
    """The server's own format, ``2024-09-24T10:30:00.000Z``, so a dump matches the API."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(_iso, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


class Preview(_Model):
    id: str
    url: str


class TaskResult(_Model):
    video_url: str | None = None
    cover_url: str | None = None
    format: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class TaskError(_Model):
    code: str
    message: str


class Task(_Model):
    id: str
    model: str
    status: str
    stage: str
    progress: float
    version: int
    eta_seconds: float | None = None
    priority: int = 0
    attempt: int = 0
    cancel_requested: bool = False
    previews: list[Preview] = Field(default_factory=list)
    #: How the task was served, e.g. that ``sora-2`` is a local title-card model here.
    warnings: list[str] = Field(default_factory=list)
    result: TaskResult | None = None
    error: TaskError | None = None
    webhook_url: str | None = None
    created_at: Timestamp
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    updated_at: Timestamp

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class TaskEvent(_Model):
    """One server-sent event: ``id`` is the task version (task streams) or the event-log
    sequence number (key streams)."""

    id: int
    type: str
    task: Task


class WebhookEndpoint(_Model):
    id: str
    url: str
    events: list[str]
    description: str = ""
    created_at: Timestamp
    #: Only in the answers to create and get.
    secret: str | None = None


class Delivery(_Model):
    id: str
    event_type: str
    url: str
    task_id: str | None = None
    endpoint_id: str | None = None
    status: str
    attempts: int
    last_error: str | None = None
    created_at: Timestamp
    next_attempt_at: Timestamp | None = None
    delivered_at: Timestamp | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    attempt_log: list[dict[str, Any]] | None = None
