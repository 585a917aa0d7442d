"""The dialects: one pure module per API shape (request parser, task view, error view).

Imported by the REST routes (`vidtask.api`) and the MCP tools (`vidtask.mcp_server`); a
dialect imports neither, and no FastAPI.
"""

from __future__ import annotations

__all__: list[str] = []
