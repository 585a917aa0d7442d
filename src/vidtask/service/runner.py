"""Where the service's blocking calls run: the loop/thread boundary, decided here once, per store
engine, so no route, stream or tool decides it for itself.

A door of the service (`vidtask.service.aio`, `keys`, `hooks`, `drafts`) says of each call
whether it only reads or may write; the engine's `Runner` says where that runs:

- SQLite, in WAL mode, answers a read from a local file in microseconds and a reader never
  waits on a writer, so a read runs inline on the event loop (a hop to a worker thread would
  cost more than the query). A write may wait for the database's one write lock, so it runs in
  a worker thread.
- PostgreSQL answers over the network: every call runs in a worker thread, so no round trip
  blocks the event loop; at most as many at once as the store's pool has connections (more
  would only wait there for one, and contend for the interpreter meanwhile). Except the task
  read of the status GET, the hot path: an API process awaits it on the loop over an async
  pool of its own (`vidtask.store.postgres.AsyncReads`, open while the app `serves`), so it
  pays no hop to a thread.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from vidtask.core.task import Task
from vidtask.settings import Settings
from vidtask.store import postgres
from vidtask.store.base import AsyncTaskReads, TaskStore

__all__ = ["POSTGRES_THREADS", "Runner", "for_settings"]

P = ParamSpec("P")
T = TypeVar("T")

#: `vidtask.store.postgres.PostgresStore`'s pool size.
POSTGRES_THREADS = 10


class Runner:
    """Runs the service's blocking calls for async callers; one per app (its thread limit
    belongs to one event loop)."""

    def __init__(
        self,
        *,
        inline_reads: bool,
        threads: int | None = None,
        task_reads: AsyncTaskReads | None = None,
    ) -> None:
        #: Whether a read runs on the event loop itself.
        self.inline_reads = inline_reads
        #: At most this many calls in worker threads at once (None: anyio's default limit).
        self.threads = threads
        #: The engine's awaitable task reads, used by `task` while the app `serves`.
        self.task_reads = task_reads
        self._limiter: anyio.CapacityLimiter | None = None

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """While the app serves (its lifespan): the awaitable task reads' connections, opened
        on the serving loop."""
        if self.task_reads is None:
            yield
            return
        await self.task_reads.open()
        try:
            yield
        finally:
            await self.task_reads.close()

    async def task(
        self, task_id: str, owner: str | None, read: Callable[[], Task | None]
    ) -> Task | None:
        """A task read by id, the status GET's hot path: awaited over the engine's task reads
        while they are open, else ``read()`` (the same read through the service) as a `read`."""
        if self.task_reads is not None and self.task_reads.is_open:
            return await self.task_reads.get(task_id, owner)
        return await self.read(read)

    async def read(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A call that only reads the store (or the artifacts)."""
        if self.inline_reads:
            return call(*args, **kwargs)
        return await self._in_thread(functools.partial(call, *args, **kwargs))

    async def write(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A call that may write, wait for a lock, or resolve a host name: never on the loop."""
        return await self._in_thread(functools.partial(call, *args, **kwargs))

    async def _in_thread(self, call: Callable[[], T]) -> T:
        if self.threads is not None and self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter)


def for_settings(settings: Settings, store: TaskStore | None = None) -> Runner:
    """The runner of the store engine ``settings`` pick (`vidtask.stores` opens the store); with
    the ``store`` of a serving process, PostgreSQL's task reads are awaited (`Runner.task`)."""
    if settings.postgres_url:
        reads = None
        if isinstance(store, postgres.PostgresStore):
            reads = postgres.AsyncReads(store, max_size=POSTGRES_THREADS)
        return Runner(inline_reads=False, threads=POSTGRES_THREADS, task_reads=reads)
    return Runner(inline_reads=True)
