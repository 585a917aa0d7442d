"""An ASGI app served for real by uvicorn on loopback, from a daemon thread.

The simulators and the callback sink run on it, so the code under test talks to them over real
sockets. The listening socket is bound before the thread starts (port 0: the kernel picks a free
one), so there is no race between choosing a port and binding it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LoopbackServer"]

T = TypeVar("T")


class LoopbackServer:
    """Serve ``app`` on ``http://127.0.0.1:<port>`` until ``stop()``.

    >>> server = LoopbackServer(app, name="ark")
    >>> server.start()
    >>> httpx.get(server.url + "/health")
    >>> server.stop()
    """

    def __init__(self, app: ASGIApp, *, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        self._host = host
        self._port = port
        self._app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._url: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:41234``."""
        if self._url is None:
            raise RuntimeError(f"{self.name}: not started")
        return self._url

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only when the
        # listening socket says so; without it every keep-alive answer waits ~40 ms for an ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._socket = sock
        host, port = sock.getsockname()[:2]
        self._url = f"http://{host}:{port}"
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            backlog=4096,  # the benchmark opens thousands of connections at once
            timeout_graceful_shutdown=2,
            # Longer than any poll interval: a client never reuses a connection the server is
            # just closing (uvicorn's default is 5 s).
            timeout_keep_alive=65,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: the server did not start")
            time.sleep(0.005)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        self.loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self._socket])

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the server's event loop from another thread and return its result."""
        loop = self.loop
        if loop is None or not loop.is_running():
            coro.close()
            raise RuntimeError(f"{self.name}: not running")
        try:
            caller: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            caller = None
        if caller is loop:
            coro.close()
            raise RuntimeError(f"{self.name}: call() from the server's own loop would deadlock")
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, loop)
        return future.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self.loop = None
