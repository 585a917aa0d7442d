"""The composition root of ``vidtask mcp`` on the local store (stdio).

`vidtask.mcp_server` never imports `vidtask.api` and never touches the store; this module,
above both, opens the store, builds the service (`vidtask.api.app.build_service`, as
``vidtask serve`` does), the REST API's key check, the change source and (on SQLite) the
embedded workers, and hands them to the MCP runtime. The HTTP app is composed by
`vidtask.api.app.create_app`, which mounts ``/mcp`` the same way.
"""

from __future__ import annotations

from vidtask import stores
from vidtask.api import app as api_app
from vidtask.dispatch.embedded import EmbeddedDispatcher
from vidtask.events.feed import ChangeFeed
from vidtask.mcp_server.runtime import LocalRuntime
from vidtask.service import runner
from vidtask.service.aio import AsyncTaskService
from vidtask.service.keys import AsyncKeys, Keys
from vidtask.settings import Settings
from vidtask.web.auth import Authenticator

__all__ = ["mcp_runtime"]


def mcp_runtime(settings: Settings, *, api_key: str | None = None) -> LocalRuntime:
    """The MCP runtime on the local store; ``api_key`` is the stdio caller's key."""
    store = stores.open_store(settings)
    service = api_app.build_service(settings, store)
    run = runner.for_settings(settings)
    feed = ChangeFeed()
    return LocalRuntime(
        settings,
        service,
        AsyncTaskService(service, run, feed),
        Authenticator(AsyncKeys(Keys(store), run)),
        stores.change_source(store, feed),
        None if settings.postgres_url else EmbeddedDispatcher(settings, store),
        api_key=api_key,
    )
