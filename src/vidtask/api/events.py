"""Push: SSE streams of task events (the long-poll on the status route is
`vidtask.web.waiting`).

A stream waits on the change feed for a hint, then re-reads the event log through the service,
so what a client sees is always what is stored. A task stream's event ids are task versions;
the key-wide stream's ids are event-log sequence numbers. Either resumes from ``Last-Event-ID`` without gaps for as long
as the event log keeps the events (``VIDTASK_EVENT_RETENTION_S``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from vidtask.core import errors
from vidtask.core.events import event_type
from vidtask.core.task import Status, Task
from vidtask.dialects import native
from vidtask.web.state import AppState, state

__all__ = ["router"]

router = APIRouter(tags=["events"])


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
    body = native.view(task, app.tasks.links(task))
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
    owner = await app.auth.owner(request)
    tasks = app.tasks
    await tasks.get(owner, task_id)  # 404 for an unknown or another key's task
    after = _last_event_id(request, "Last-Event-ID") or 0
    seen = await tasks.history(owner, task_id, after - 1, limit=1) if after > 0 else []
    previous = seen[0].status if seen and seen[0].version == after else None
    sub = tasks.feed.subscribe(owner, task_id)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        nonlocal after, previous
        try:
            while True:
                history = await tasks.history(owner, task_id, after)
                if not history:
                    current = await tasks.find(owner, task_id)
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
                if not await _still_allowed(app, request):
                    return
        finally:
            tasks.feed.unsubscribe(sub)

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
    owner = await app.auth.owner(request)
    tasks = app.tasks
    resume = _last_event_id(request, "Last-Event-ID")
    after = await tasks.last_event_seq() if resume is None else resume
    wanted_status, wanted_ids = set(status), set(task_id)
    sub = tasks.feed.subscribe(owner)
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
                changes = await tasks.events_since(after, owner)
                for change in changes:
                    after = change.seq
                    previous = last_status.get(change.task_id)
                    last_status[change.task_id] = change.status
                    if not wanted(change.status, change.model, change.task_id):
                        continue
                    snapshot = await tasks.event_at(change.seq)
                    if snapshot is not None:
                        yield _event(app, snapshot, previous, change.seq)
                if len(last_status) > 10_000:
                    last_status.clear()
                if not changes:
                    await sub.wait(heartbeat)
                if not await _still_allowed(app, request):
                    return
        finally:
            tasks.feed.unsubscribe(sub)

    return EventSourceResponse(stream(), ping=heartbeat, headers=_NO_BUFFERING)


async def _still_allowed(app: AppState, request: Request) -> bool:
    """A stream re-checks its key (at least every heartbeat): a revoked key ends it."""
    try:
        await app.auth.owner(request)
    except errors.Unauthorized:
        return False
    return True


#: Ask nginx and similar proxies not to buffer the stream.
_NO_BUFFERING: dict[str, Any] = {"X-Accel-Buffering": "no", "Cache-Control": "no-cache"}
