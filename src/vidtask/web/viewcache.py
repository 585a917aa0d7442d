"""Rendered status bodies, reused while the task's version (and the expiry of its signed links)
is unchanged. Status polling is the hot path, and most polls see an unchanged task."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from vidtask.core.task import Task

__all__ = ["ViewCache"]

MAX_ENTRIES = 10_000


class ViewCache:
    def __init__(self, link_expiry: Callable[[], int]) -> None:
        self.link_expiry = link_expiry
        self._bodies: dict[tuple[str, str], tuple[int, int, bytes]] = {}

    def body(self, dialect: str, task: Task, render: Callable[[], dict[str, Any]]) -> bytes:
        expiry = self.link_expiry()
        key = (dialect, task.id)
        cached = self._bodies.get(key)
        if cached is not None and cached[0] == task.version and cached[1] == expiry:
            return cached[2]
        body = json.dumps(render(), ensure_ascii=False).encode()
        if len(self._bodies) >= MAX_ENTRIES:
            self._bodies.clear()
        self._bodies[key] = (task.version, expiry, body)
        return body
