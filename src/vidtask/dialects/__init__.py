"""The dialects: one package per API shape, and `registry.DIALECTS`, the ones the app mounts.

A dialect's package itself is pure (the request parser, the task view, the error view, the
webhook payload; no FastAPI, no store); its ``routes`` module holds its HTTP routes and its
`Dialect` value (`vidtask.web.dialect`). ``generation`` and ``timestamps`` are pure pieces
several dialects share. The MCP tools (`vidtask.mcp_server`) use the pure parts too.
"""

from __future__ import annotations

__all__: list[str] = []
