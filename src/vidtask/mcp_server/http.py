"""Streamable HTTP at ``/mcp`` inside the main server, on the server's own service.

Stateless: every request carries its key and nothing lives in a session, so any server of a
deployment can answer any request (tasks are durable; the MCP session holds nothing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from vidtask.core import errors
from vidtask.mcp_server import auth as mcp_auth
from vidtask.mcp_server.local import LocalBackend
from vidtask.mcp_server.server import build_server
from vidtask.service.aio import AsyncTaskService
from vidtask.settings import Settings

__all__ = ["PATH", "McpEndpoint", "allowed_hosts", "endpoint", "transport_security"]

PATH = "/mcp"
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(settings: Settings) -> list[str]:
    """``Host`` values accepted at /mcp (DNS-rebinding protection): the configured ones, else
    the host of the public URL and loopback, each with any port."""
    configured = settings.mcp_allowed_hosts
    if not configured:
        public = urlsplit(settings.base_url).hostname or "127.0.0.1"
        public = f"[{public}]" if ":" in public else public
        configured = list(dict.fromkeys([public, *_LOOPBACK]))
    found: list[str] = []
    for host in configured:
        found.append(host)
        if not host.endswith("]") and ":" in host:
            continue  # it names its port
        found.append(f"{host}:*")
    return found


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """``*`` among the allowed hosts turns the check off (a proxy in front checks them)."""
    if "*" in settings.mcp_allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = allowed_hosts(settings)
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class McpEndpoint:
    """The ASGI app of ``/mcp``; `running` belongs in the app's lifespan."""

    def __init__(
        self,
        server: MCPServer[Any],
        security: TransportSecuritySettings,
        auth: mcp_auth.Authenticator,
    ) -> None:
        self.server = server
        self.security = security
        self.auth = auth
        self._new_manager()

    def _new_manager(self) -> None:
        # The SDK's session manager runs once; each app lifespan gets a fresh one.
        self.server.streamable_http_app(
            streamable_http_path=PATH, stateless_http=True, transport_security=self.security
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._new_manager()
        async with self.server.session_manager.run():
            yield

    @property
    def route(self) -> Route:
        return Route(PATH, self, include_in_schema=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Every request needs the key a keyed server asks for, tools/list included; the tools
        # check it again (and name the placeholder key) for the task they act on.
        try:
            await mcp_auth.owner(self.auth, Request(scope).headers)
        except errors.Unauthorized as exc:
            refusal = JSONResponse(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": exc.message}},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await refusal(scope, receive, send)
            return
        await self.server.session_manager.handle_request(scope, receive, send)


def endpoint(
    settings: Settings, tasks: AsyncTaskService, auth: mcp_auth.Authenticator
) -> McpEndpoint:
    """``/mcp`` on the server's own service (which counts the tasks tools create, as it does
    every create) and key check."""
    backend = LocalBackend(tasks, auth)
    return McpEndpoint(build_server(backend, "http"), transport_security(settings), auth)
