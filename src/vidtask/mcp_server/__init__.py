"""The MCP server: agents generate and follow videos through the same durable tasks.

Streamable HTTP is mounted at ``/mcp`` by the app factory (`vidtask.mcp_server.http`);
``vidtask mcp`` serves stdio, against a server (`remote`) or the local store (`runtime`).
Named ``mcp_server`` so it never shadows the ``mcp`` SDK.
"""

from __future__ import annotations

__all__: list[str] = []
