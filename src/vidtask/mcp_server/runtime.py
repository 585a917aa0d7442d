"""``vidtask mcp`` without ``--url``: the service on the local store, in this process.

Tasks need workers to render. On SQLite, when no server runs on this data directory, this
process starts the embedded workers itself (as ``vidtask serve`` would), so an agent alone with
its MCP server still gets videos; when a server does run there (it holds the data directory's
lock), its workers render and this process only submits and reads. On PostgreSQL the cluster's
``vidtask worker`` processes render, as for the server.

The service, the key check, the change source and the workers come from the caller
(`vidtask.composition.mcp_runtime`), so this package never imports `vidtask.api` and never
touches the store.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio

from vidtask.core import errors
from vidtask.mcp_server.auth import Authenticator
from vidtask.mcp_server.local import LocalBackend
from vidtask.service.aio import AsyncTaskService
from vidtask.service.tasks import TaskService
from vidtask.settings import Settings

__all__ = ["LocalRuntime", "Startable"]

log = logging.getLogger(__name__)


class Startable(Protocol):
    """The change source of the store, and the embedded workers."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class LocalRuntime:
    """``changes`` feeds ``tasks.feed`` from the store; ``dispatcher`` is the embedded workers
    (None on PostgreSQL). All are built by the composition root, beside the store."""

    def __init__(
        self,
        settings: Settings,
        service: TaskService,
        tasks: AsyncTaskService,
        authenticator: Authenticator,
        changes: Startable,
        dispatcher: Startable | None,
        *,
        api_key: str | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.tasks = tasks
        self.feed = tasks.feed
        self.authenticator = authenticator
        self.changes = changes
        self.dispatcher = dispatcher
        self.backend = LocalBackend(tasks, authenticator, api_key=api_key, local_files=True)
        self.workers = False

    def start(self) -> None:
        """Start the change feed and, if no server owns the store, the workers."""
        self.changes.start()
        if self.dispatcher is not None and self.settings.workers > 0:
            try:
                self.dispatcher.start()
                self.workers = True
            except errors.Conflict:
                log.info("a vidtask server runs on %s; its workers render", self.settings.data_dir)

    def stop(self) -> None:
        if self.workers and self.dispatcher is not None:
            self.dispatcher.stop()
            self.workers = False
        self.changes.stop()

    @asynccontextmanager
    async def running(self, _server: Any = None) -> AsyncIterator[None]:
        """`start` … `stop`, as the MCP server's lifespan. Over stdio that is entered after the
        SDK moved stdout aside, so output of the workers can never corrupt the protocol."""
        await anyio.to_thread.run_sync(self.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(self.stop)
