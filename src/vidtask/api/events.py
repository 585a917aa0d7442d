"""Push and cheap waiting: SSE streams of task events, and long-poll on the status route.

Both wait on the change feed for a hint, then re-read the store, so what a client sees is
always what is stored. A task stream's event ids are task versions; the key-wide stream's ids
are event-log sequence numbers. Either resumes from ``Last-Event-ID`` without gaps for as long
as the event log keeps the events (``VIDTASK_EVENT_RETENTION_S``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from vidtask.api.state import AppState, state
from vidtask.core import errors
from vidtask.core.events import event_type
from vidtask.core.task import Status, Task
from vidtask.dialects import native

__all__ = ["MAX_WAIT_S", "router", "wait_for_change"]

router = APIRouter(tags=["events"])

MAX_WAIT_S = 60.0


def _last_event_id(request: Request, name: str) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.InvalidRequest(
            f"{name}: Last-Event-ID must be an integer, got {raw[:40]!r}", param=name
        ) from None
    if value < 0:
        raise errors.InvalidRequest(f"{name}: Last-Event-ID must be >= 0", param=name)
    return value


def _event(app: AppState, task: Task, previous: Status | None, event_id: int) -> ServerSentEvent:
    body = native.view(task, app.service.links(task))
    return ServerSentEvent(
        data=json.dumps(body, ensure_ascii=False),
        event=event_type(previous, task),
        id=str(event_id),
    )


@router.get("/v1/tasks/{task_id}/events")
async def task_events(task_id: str, request: Request) -> EventSourceResponse:
    """One event per task version, then the stream closes after the terminal one.
    ``Last-Event-ID`` (or ``?after=``) is the last version seen."""
    app = state(request)
    heartbeat = app.settings.sse_heartbeat_s
    owner = app.auth.owner(request)
    store = app.service.store
    app.service.get(owner, task_id)  # 404 for an unknown or another key's task
    after = _last_event_id(request, "Last-Event-ID") or 0
    seen = store.task_history(task_id, owner, after - 1, limit=1) if after > 0 else []
    previous = seen[0].status if seen and seen[0].version == after else None
    sub = app.feed.subscribe(owner, task_id)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        nonlocal after, previous
        try:
            while True:
                history = store.task_history(task_id, owner, after)
                if not history:
                    current = store.get(task_id, owner)
                    if current is None:
                        return  # deleted
                    if current.version > after:  # the log no longer has these versions
                        history = [current]
                for snapshot in history:
                    yield _event(app, snapshot, previous, snapshot.version)
                    after, previous = snapshot.version, snapshot.status
                    if snapshot.terminal:
                        return
                await sub.wait(heartbeat)
                if not _still_allowed(app, request):
                    return
        finally:
            app.feed.unsubscribe(sub)

    return EventSourceResponse(stream(), ping=heartbeat, headers=_NO_BUFFERING)


@router.get("/v1/events")
async def key_events(
    request: Request,
    status: list[Status] = Query(default=[], description="Only events reaching these statuses."),
    model: str | None = Query(None, description="Only tasks of this model."),
    task_id: list[str] = Query(default=[], description="Only these tasks (repeatable)."),
) -> EventSourceResponse:
    """Every change of every task of this API key, live. Event ids are event-log sequence
    numbers: resume with ``Last-Event-ID``, or replay what the log keeps with ``?after=0``."""
    app = state(request)
    heartbeat = app.settings.sse_heartbeat_s
    owner = app.auth.owner(request)
    store = app.service.store
    resume = _last_event_id(request, "Last-Event-ID")
    after = store.last_event_seq() if resume is None else resume
    wanted_status, wanted_ids = set(status), set(task_id)
    sub = app.feed.subscribe(owner)
    last_status: dict[str, Status] = {}

    def wanted(change_status: Status, change_model: str, change_task: str) -> bool:
        return (
            (not wanted_status or change_status in wanted_status)
            and (model is None or change_model == model)
            and (not wanted_ids or change_task in wanted_ids)
        )

    async def stream() -> AsyncIterator[ServerSentEvent]:
        nonlocal after
        try:
            while True:
                changes = store.events_since(after, owner=owner)
                for change in changes:
                    after = change.seq
                    previous = last_status.get(change.task_id)
                    last_status[change.task_id] = change.status
                    if not wanted(change.status, change.model, change.task_id):
                        continue
                    snapshot = store.event_at(change.seq)
                    if snapshot is not None:
                        yield _event(app, snapshot, previous, change.seq)
                if len(last_status) > 10_000:
                    last_status.clear()
                if not changes:
                    await sub.wait(heartbeat)
                if not _still_allowed(app, request):
                    return
        finally:
            app.feed.unsubscribe(sub)

    return EventSourceResponse(stream(), ping=heartbeat, headers=_NO_BUFFERING)


def _still_allowed(app: AppState, request: Request) -> bool:
    """A stream re-checks its key (at least every heartbeat): a revoked key ends it."""
    try:
        app.auth.owner(request)
    except errors.Unauthorized:
        return False
    return True


async def wait_for_change(request: Request, task: Task) -> Task:
    """Long-poll: ``?wait=N&version=V`` answers as soon as the task's version exceeds V
    (default: the ``If-None-Match`` ETag, else the current version) or after N s (max 60)."""
    params = request.query_params
    wait = _number(params.get("wait"), "wait", 0.0, MAX_WAIT_S)
    version = params.get("version") or request.headers.get("if-none-match", "").strip('"')
    seen = int(_number(version, "version", 0, 2**62)) if version else task.version
    if task.version > seen or task.terminal or wait <= 0:
        return task
    app = state(request)
    sub = app.feed.subscribe(task.owner, task.id)
    deadline = time.monotonic() + wait
    try:
        while True:
            current = app.service.get(task.owner, task.id)
            left = deadline - time.monotonic()
            if current.version > seen or current.terminal or left <= 0:
                return current
            await sub.wait(left)
    finally:
        app.feed.unsubscribe(sub)


def _number(raw: str | None, name: str, low: float, high: float) -> float:
    if raw is None:
        return low
    try:
        value = float(raw)
    except ValueError:
        raise errors.InvalidRequest(
            f"{name}: must be a number, got {raw[:40]!r}", param=name
        ) from None
    if not low <= value <= high:
        raise errors.InvalidRequest(f"{name}: must be between {low:g} and {high:g}", param=name)
    return value


#: Ask nginx and similar proxies not to buffer the stream.
_NO_BUFFERING: dict[str, Any] = {"X-Accel-Buffering": "no", "Cache-Control": "no-cache"}
