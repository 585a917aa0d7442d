"""What the calls (`_calls`) share: headers, error mapping, event parsing, backoff."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx
from httpx_sse import ServerSentEvent

from vidtask.client.models import Task, TaskEvent
from vidtask.core import errors

__all__ = [
    "LONG_POLL_S",
    "USER_AGENT",
    "Backoff",
    "OnUpdate",
    "Unsupported",
    "WaitMode",
    "artifact_url",
    "checked",
    "clean",
    "headers",
    "parse_event",
    "retry_after",
    "sse_unsupported",
    "time_left",
]

USER_AGENT = "vidtask-python"

WaitMode = Literal["auto", "sse", "long-poll", "poll"]
OnUpdate = Callable[[Task], None]


class Unsupported(Exception):
    """The server does not offer this way of waiting; try the next."""


def time_left(task: Task, deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"task {task.id} is still {task.status} ({task.progress:.0f}%)")
    return left


#: Long-poll and SSE never hold a request longer than this (the server caps ``wait`` at 60 s).
LONG_POLL_S = 30.0


def headers(api_key: str | None) -> dict[str, str]:
    found = {"User-Agent": USER_AGENT}
    if api_key:
        found["Authorization"] = f"Bearer {api_key}"
    return found


def clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None and v != [] and v != ()}


def checked(response: httpx.Response) -> httpx.Response:
    """The response, or the server's error raised as the `VidtaskError` of its code."""
    if response.status_code < 400:
        return response
    try:
        error = json.loads(response.content)["error"]
        problem = errors.error_for_code(error["code"], error["message"])
        problem.param = error.get("param")
    except (ValueError, KeyError, TypeError):
        problem = errors.VidtaskError(f"HTTP {response.status_code}: {response.text[:200]}")
    raise problem


def parse_event(sse: ServerSentEvent) -> TaskEvent | None:
    """The task event ``sse`` carries, or None for a heartbeat.

    httpx-sse hands a ``: ping`` comment and its blank line over as an event with empty data
    (the last event id still set, as the SSE spec says), so an empty ``data`` is not a task."""
    if not sse.data:
        return None
    return TaskEvent(id=int(sse.id), type=sse.event, task=Task.model_validate_json(sse.data))


def artifact_url(target: Task | str, variant: str) -> str:
    if isinstance(target, str):
        return target
    link = None if target.result is None else getattr(target.result, f"{variant}_url", None)
    if not link:
        raise errors.Conflict(
            f"task {target.id} is {target.status}; it has no {variant} to download yet"
        )
    return str(link)


def retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


class Backoff:
    """Polling delays: the server's ``Retry-After`` when it gives one, else growing from
    ``first`` by half each time up to ``cap``, with jitter."""

    def __init__(self, first: float = 0.5, cap: float = 10.0) -> None:
        self.delay = first
        self.cap = cap

    def next(self, hint: float | None) -> float:
        if hint is not None:
            return min(max(hint, 0.1), self.cap)
        delay = self.delay * random.uniform(0.8, 1.0)
        self.delay = min(self.cap, self.delay * 1.5)
        return delay


def sse_unsupported(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return response.status_code in (404, 405, 406, 501) or (
        response.status_code < 300 and not content_type.startswith("text/event-stream")
    )
