"""The vidtask MCP server (the official SDK's `MCPServer`), on a given backend."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from mcp.server.mcpserver import MCPServer

from vidtask import __version__
from vidtask.mcp_server import tools
from vidtask.mcp_server.backend import Backend

__all__ = ["INSTRUCTIONS", "build_server"]

INSTRUCTIONS = """\
vidtask renders videos as durable tasks. Start one with generate_video (a prompt, a question \
and answer, or a JSON timeline) or gen_video (Scenext's parameters): it returns a task_id at \
once. Then call wait_for_video(task_id) (each call waits at most 50 s and reports progress) \
until done is true, and show the video_url to the user as a Markdown link [text](url). \
query_video_status and query_video_task check a task without waiting; list_videos lists this \
API key's tasks; list_models shows the models."""

Lifespan = Callable[[MCPServer[Any]], AbstractAsyncContextManager[Any]]


def build_server(
    backend: Backend, transport: tools.Transport, *, lifespan: Lifespan | None = None
) -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer(
        "vidtask",
        title="vidtask",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
    )
    tools.register(server, backend, transport)
    return server
