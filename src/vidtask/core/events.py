"""What happened to a task between two of its versions, named the way SSE streams and
webhooks name it."""

from __future__ import annotations

from vidtask.core.task import Status, Task

__all__ = ["TERMINAL_EVENTS", "WEBHOOK_EVENTS", "event_type", "progress_step_crossed"]

#: The event types a webhook endpoint can subscribe to.
WEBHOOK_EVENTS = (
    "task.started",
    "task.progress",
    "task.completed",
    "task.failed",
    "task.cancelled",
)
#: The events of a task's end.
TERMINAL_EVENTS = frozenset({"task.completed", "task.failed", "task.cancelled"})

#: task.progress webhooks fire when progress crosses a multiple of this many percent.
PROGRESS_STEP = 10.0


def event_type(previous: Status | None, task: Task) -> str:
    """``task.created`` / ``.queued`` / ``.started`` / ``.requeued`` / ``.progress`` or the
    terminal ``.completed`` / ``.failed`` / ``.cancelled``. ``previous`` is the status at the
    version before (None when unknown)."""
    status = task.status
    if status.terminal:
        return f"task.{status.value}"
    if status is Status.QUEUED:
        if previous is None and task.version == 1:
            return "task.created"
        return "task.requeued" if previous is Status.IN_PROGRESS else "task.queued"
    if previous is not Status.IN_PROGRESS and previous is not None:
        return "task.started"
    return "task.progress"


def progress_step_crossed(before: float, after: float, step: float = PROGRESS_STEP) -> bool:
    """Whether progress moved into a new ``step``-percent band (throttles progress webhooks)."""
    return after < 100.0 and int(after // step) > int(before // step)
