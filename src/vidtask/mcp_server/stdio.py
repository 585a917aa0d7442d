"""``vidtask mcp``: the MCP server over stdio, for an agent that starts it as a subprocess."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from vidtask.mcp_server.remote import RemoteBackend
from vidtask.mcp_server.runtime import LocalRuntime
from vidtask.mcp_server.server import build_server
from vidtask.settings import Settings

__all__ = ["serve"]


def serve(settings: Settings, *, url: str | None, api_key: str | None) -> None:
    """Serve until stdin closes: against the server at ``url``, else on the local store."""
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
        runtime = LocalRuntime(settings, api_key=api_key)
        server = build_server(runtime.backend, "stdio", lifespan=runtime.running)
    server.run("stdio")
