"""The composition root of ``vidtask mcp`` on the local store (stdio).

`vidtask.mcp_server` never imports `vidtask.api`; this module, above both, builds the service
(`vidtask.api.app.build_service`, as ``vidtask serve`` does) and the REST API's key check and
hands them to the MCP runtime. The HTTP app is composed by `vidtask.api.app.create_app`, which
mounts ``/mcp`` the same way.
"""

from __future__ import annotations

from vidtask.api import app as api_app
from vidtask.mcp_server.runtime import LocalRuntime
from vidtask.settings import Settings
from vidtask.web.auth import Authenticator

__all__ = ["mcp_runtime"]


def mcp_runtime(settings: Settings, *, api_key: str | None = None) -> LocalRuntime:
    """The MCP runtime on the local store; ``api_key`` is the stdio caller's key."""
    service = api_app.build_service(settings)
    return LocalRuntime(settings, service, Authenticator(service.store), api_key=api_key)
