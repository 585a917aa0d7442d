"""The cluster store: PostgreSQL through a psycopg 3 connection pool, shared by any number of API
and worker processes on any number of machines.

The same ``TaskStore`` (`SQLTaskStore`, over the statements of `store/sql`) as SQLite, with three
differences:
- whenever a task becomes ``queued`` (created, recovered, handed back), ``on_queued`` runs in the
  same transaction: the Procrastinate dispatcher defers its job there, so there is never a task
  without a job nor a job without a task;
- workers claim a task through its job (``claim_task``), not by scanning the queue;
- every write that makes a new task version first takes the event-log lock (see migration 0001),
  so the log's order is commit order.

An API process also reads tasks for the status GET (the hot path) through `AsyncReads`: its own
async pool, awaited on the event loop, so that read neither blocks the loop nor pays a hop to
a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from vidtask.core.task import Task
from vidtask.store import sql, tasks
from vidtask.store.base import TaskFilter
from vidtask.store.connector import Params

__all__ = [
    "EVENTS_CHANNEL",
    "AsyncReads",
    "POOL_TIMEOUT_S",
    "OnQueued",
    "PostgresConnector",
    "PostgresSession",
    "PostgresStore",
]

#: The NOTIFY channel the event-log trigger signals on every commit that adds events.
EVENTS_CHANNEL = "vidtask_events"
#: Called inside the transaction that made these tasks ``queued``.
OnQueued = Callable[[psycopg.Connection[Any], list[Task]], None]

#: How long a caller waits for a working connection before ``PoolTimeout``.
POOL_TIMEOUT_S = 30.0
#: Status-version reads out at once in an API process; asks made meanwhile join the next one.
MAX_BATCHES_IN_FLIGHT = 2
_EVENT_LOCK = 7146235001  # the advisory lock the event trigger takes (migration 0001)

#: The statements in psycopg's parameter style (a few dozen named ones, and the list filters).
_native = functools.lru_cache(maxsize=1024)(sql.to_pyformat)


class PostgresSession:
    """Statements on one pooled connection (the `Session` of `store.connector`)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def one(self, sql: str, params: Params) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self.raw.execute(_native(sql), params).fetchone()
        return row

    def all(self, sql: str, params: Params) -> list[dict[str, Any]]:
        return self.raw.execute(_native(sql), params).fetchall()

    def run(self, sql: str, params: Params) -> int:
        return self.raw.execute(_native(sql), params).rowcount

    def run_many(self, sql: str, params: Sequence[Params]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(_native(sql), params)


class PostgresConnector:
    """A psycopg pool (the `Connector` of `store.connector`)."""

    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.queries = sql.queries("postgres")
        self.pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=True,
            name="vidtask",
            timeout=POOL_TIMEOUT_S,
        )
        self.pool.wait(timeout=30)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in autocommit mode."""
        conn = self._alive()
        try:
            with conn:  # a pool's connection is not closed here, only ended (rollback on error)
                yield conn
        finally:
            self.pool.putconn(conn)

    @contextmanager
    def read(self) -> Iterator[PostgresSession]:
        with self.connection() as conn:
            yield PostgresSession(conn)

    #: One statement in autocommit mode is a transaction of its own.
    write = read

    @contextmanager
    def transaction(self, *, versioned: bool = False) -> Iterator[PostgresSession]:
        """One transaction; ``versioned`` ones (they write task versions) take the event-log
        lock first."""
        with self.connection() as conn, conn.transaction():
            session = PostgresSession(conn)
            if versioned:
                session.run(self.queries["event_lock"], {"lock": _EVENT_LOCK})
            yield session

    def json(self, value: Any, *, compact: bool = False) -> Jsonb:
        return Jsonb(value)

    def array(self, values: Sequence[Any]) -> list[Any]:
        return list(values)

    def load(self, raw: Any) -> Any:
        return raw  # psycopg already decoded the jsonb column

    def close(self) -> None:
        self.pool.close()

    def _alive(self) -> psycopg.Connection[Any]:
        """A pool connection that answers. One the server dropped (a restart, a terminated
        backend) goes back broken, so the pool replaces it, and the next is tried at once. (The
        pool's own ``check`` waits 1, 2, 4... s between tries: under repeated terminations
        every connection is dead again by then, and the caller gets a PoolTimeout.)"""
        deadline = time.monotonic() + POOL_TIMEOUT_S
        while True:
            conn = self.pool.getconn(timeout=max(0.0, deadline - time.monotonic()))
            try:
                conn.execute("")
            except psycopg.OperationalError:
                self.pool.putconn(conn)
                if time.monotonic() > deadline:
                    raise
                continue
            return conn


class PostgresStore(tasks.SQLTaskStore[PostgresConnector]):
    def __init__(
        self,
        conninfo: str,
        *,
        on_queued: OnQueued | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        self.conninfo = conninfo
        super().__init__(
            PostgresConnector(conninfo, min_size=min_size, max_size=max_size), on_queued=on_queued
        )
        self.pool = self.db.pool

    def connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A pooled connection in autocommit mode."""
        return self.db.connection()

    @contextmanager
    def transaction(self, *, versioned: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """One transaction; ``versioned`` ones (they write task versions) take the event-log
        lock first."""
        with self.db.transaction(versioned=versioned) as session:
            yield session.raw

    def claim_task(
        self, task_id: str, attempt: int, worker_id: str, now: float, lease_ttl: float
    ) -> Task | None:
        """Lease one task for ``attempt`` (its job's attempt). None when the task is not
        waiting for exactly that attempt: cancelled, finished, or a duplicate job."""
        params = {
            "id": task_id,
            "attempt": attempt,
            "worker_id": worker_id,
            "lease_expires_at": now + lease_ttl,
            "now": now,
        }
        with self.db.transaction(versioned=True) as s:
            row = s.one(self.queries["claim_task"], params)
        return None if row is None else self._task(row)

    def requeue_stranded(self, before: float) -> list[Task]:
        """Defer a new job for each task queued since before ``before`` that has no live
        Procrastinate job (its job failed before it could claim the task, e.g. while the
        database was unreachable). Without this such a task would wait forever."""
        with self.db.transaction() as s:
            found = [
                self._task(r) for r in s.all(self.queries["requeue_stranded"], {"before": before})
            ]
            self._queued(s, found)
        return found


class AsyncReads:
    """`PostgresStore.get` awaited on the event loop, over an `AsyncConnectionPool` of this
    process (the `AsyncTaskReads` of `store.base`). It shares the store's decoded tasks.

    The versions asked for in one turn of the loop are read in one statement: under load, many
    status polls arrive together, and a round trip costs far more than a row. The pool belongs
    to the event loop that opens it: `open` and `close` it in the app's lifespan (a closed pool
    cannot be reopened, so each `open` makes a new one)."""

    def __init__(self, store: PostgresStore, *, max_size: int = 10) -> None:
        self.store = store
        self.max_size = max_size
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[DictRow]] | None = None
        self._versions_sql = _native(store.queries["task_versions"])
        self._task_sql = _native(store.task_sql)
        #: The version reads asked for in this turn of the loop, by task id.
        self._batch: dict[str, asyncio.Future[DictRow | None]] | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    async def open(self) -> None:
        pool = AsyncConnectionPool(
            self.store.conninfo,
            connection_class=psycopg.AsyncConnection[DictRow],
            min_size=1,
            max_size=self.max_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=False,
            name="vidtask-reads",
            timeout=POOL_TIMEOUT_S,
        )
        await pool.open(wait=True, timeout=POOL_TIMEOUT_S)
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def get(self, task_id: str, owner: str | None = None) -> Task | None:
        """As `PostgresStore.get`."""
        found = await self._version(task_id)
        if not tasks.visible(found, owner):
            return None
        task = self.store.reuse(task_id, found)
        if task is None:
            rows = await self._all(self._task_sql, {"id": task_id})
            task = self.store.remember(rows[0] if rows else None)
        return task

    def _version(self, task_id: str) -> asyncio.Future[DictRow | None]:
        """The task's `task_versions` row, read with the others asked for meanwhile: while
        `MAX_BATCHES_IN_FLIGHT` statements are out, new asks wait for the next one (so under
        load each round trip answers many polls; an idle server answers at once)."""
        if self._batch is None:
            self._batch = {}
            if len(self._flushing) < MAX_BATCHES_IN_FLIGHT:
                asyncio.get_running_loop().call_soon(self._flush)
        found = self._batch.get(task_id)
        if found is None:
            found = self._batch[task_id] = asyncio.get_running_loop().create_future()
        return found

    def _flush(self) -> None:
        batch, self._batch = self._batch or {}, None
        flushing = asyncio.ensure_future(self._read_versions(batch))
        self._flushing.add(flushing)  # a task nothing references may be collected
        flushing.add_done_callback(self._flushed)

    def _flushed(self, done: asyncio.Task[None]) -> None:
        self._flushing.discard(done)
        if self._batch and len(self._flushing) < MAX_BATCHES_IN_FLIGHT:
            self._flush()  # the asks that waited for this round trip

    async def _read_versions(self, batch: dict[str, asyncio.Future[DictRow | None]]) -> None:
        try:
            rows = await self._all(self._versions_sql, {"ids": list(batch)})
        except Exception as exc:  # each waiting read raises it
            for waiting in batch.values():
                if not waiting.done():
                    waiting.set_exception(exc)
            return
        except asyncio.CancelledError:
            for waiting in batch.values():
                waiting.cancel()
            raise
        by_id = {row["id"]: row for row in rows}
        for task_id, waiting in batch.items():
            if not waiting.done():
                waiting.set_result(by_id.get(task_id))

    async def _all(self, statement: str, params: Params) -> list[DictRow]:
        """The rows of one statement. A connection the server dropped goes back broken, so the
        pool replaces it, and the read is tried again at once (as `PostgresConnector._alive`
        does, without its extra round trip on every checkout)."""
        assert self._pool is not None, "AsyncReads.open() was not awaited"
        deadline = time.monotonic() + POOL_TIMEOUT_S
        while True:
            # getconn/putconn, not ``connection()``: in autocommit mode there is no transaction
            # to end, and its context costs the hot path a few microseconds.
            conn = await self._pool.getconn(timeout=max(0.0, deadline - time.monotonic()))
            try:
                return await (await conn.execute(statement, params)).fetchall()
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
            finally:
                await self._pool.putconn(conn)


def _filter(owner: str, query: TaskFilter) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms (in psycopg's style) and parameters of a task query (without paging)."""
    where, params = tasks.task_filter(sql.queries("postgres"), owner, query)
    return [sql.to_pyformat(term) for term in where], params
