"""A callback receiver for the simulators' own tests: records every POST it gets.

The relay tests point the simulators' callbacks at vidtask instead; this sink is for checking
the simulators themselves (order, copies, retries, the callback that beats the create response).
"""

from __future__ import annotations

import json
import threading
import time
from types import TracebackType
from typing import Any, Self

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.simulators import server as server_module

__all__ = ["CallbackSink"]


class CallbackSink:
    """``POST <url>/<anything>`` is recorded in ``received`` (path, JSON body) and answered
    204, or with the status set by ``fail_next``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])
        self.server = server_module.LoopbackServer(app, name="sink")

    @property
    def url(self) -> str:
        return self.server.url

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next ``n`` callbacks with ``status`` (they are still recorded)."""
        with self._lock:
            self._failures.extend([status] * n)

    def bodies(self) -> list[Any]:
        with self._lock:
            return [body for _, body in self.received]

    def wait(self, count: int, timeout: float = 5.0) -> list[Any]:
        """Wait until at least ``count`` callbacks arrived; their bodies."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} callbacks arrived, wanted {count}")
            time.sleep(0.01)
        return self.bodies()

    async def _receive(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._lock:
            self.received.append((request.url.path, body))
            status = self._failures.pop(0) if self._failures else 204
        return Response(status_code=status)

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.stop()
