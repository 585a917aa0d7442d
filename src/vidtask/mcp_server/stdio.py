"""``vidtask mcp``: the MCP server over stdio, for an agent that starts it as a subprocess."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from vidtask.mcp_server.remote import RemoteBackend
from vidtask.mcp_server.runtime import LocalRuntime
from vidtask.mcp_server.server import build_server

__all__ = ["serve"]


def serve(*, url: str | None, api_key: str | None, local: Callable[[], LocalRuntime]) -> None:
    """Serve until stdin closes: against the server at ``url``, else on the local store
    (``local`` builds that runtime; it is not called when ``url`` is given)."""
    if url:
        remote = RemoteBackend(url, api_key)

        @asynccontextmanager
        async def closing(_server: Any) -> AsyncIterator[None]:
            try:
                yield
            finally:
                await remote.close()

        server = build_server(remote, "stdio", lifespan=closing)
    else:
        runtime = local()
        server = build_server(runtime.backend, "stdio", lifespan=runtime.running)
    server.run("stdio")
