"""The cluster store: PostgreSQL through a psycopg 3 connection pool, shared by any number of API
and worker processes on any number of machines.

The same ``TaskStore`` contract as SQLite, with three differences:
- whenever a task becomes ``queued`` (created, recovered, handed back), ``on_queued`` runs in the
  same transaction: the Procrastinate dispatcher defers its job there, so there is never a task
  without a job nor a job without a task;
- workers claim a task through its job (``claim_task``), not by scanning the queue;
- every write that makes a new task version first takes the event-log lock (see migration 0001),
  so the log's order is commit order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from vidtask.core.task import ACTIVE, Status, Task
from vidtask.store import rows
from vidtask.store.base import ApiKey, Change, Fence, Page, TaskFilter

__all__ = ["EVENTS_CHANNEL", "POOL_TIMEOUT_S", "OnQueued", "PostgresStore"]

#: The NOTIFY channel the event-log trigger signals on every commit that adds events.
EVENTS_CHANNEL = "vidtask_events"
#: Called inside the transaction that made these tasks ``queued``.
OnQueued = Callable[[psycopg.Connection[Any], list[Task]], None]

#: How long a caller waits for a working connection before ``PoolTimeout``.
POOL_TIMEOUT_S = 30.0
_EVENT_LOCK = 7146235001  # the advisory lock the event trigger takes (migration 0001)
_ACTIVE = [s.value for s in ACTIVE]


class PostgresStore:
    def __init__(
        self,
        conninfo: str,
        *,
        on_queued: OnQueued | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        self.conninfo = conninfo
        self.on_queued = on_queued
        self._recent: dict[str, Task] = {}
        self._recent_lock = threading.Lock()
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

    # --- connections ------------------------------------------------------------------
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
    def transaction(self, *, versioned: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """One transaction; ``versioned`` ones (they write task versions) take the event-log
        lock first."""
        with self.connection() as conn, conn.transaction():
            if versioned:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_EVENT_LOCK,))
            yield conn

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

    def close(self) -> None:
        self.pool.close()

    def _queued(self, conn: psycopg.Connection[Any], tasks: list[Task]) -> None:
        waiting = [t for t in tasks if t.status is Status.QUEUED]
        if waiting and self.on_queued is not None:
            self.on_queued(conn, waiting)

    # --- API side ---------------------------------------------------------------------
    def create(self, task: Task) -> tuple[Task, bool]:
        row = rows.to_row(task, Jsonb)
        columns = ", ".join(row)
        marks = ", ".join(f"%({name})s" for name in row)
        with self.transaction(versioned=True) as conn:
            inserted = conn.execute(
                f"INSERT INTO tasks ({columns}) VALUES ({marks})"
                " ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL"
                " DO NOTHING RETURNING id",
                row,
            ).fetchone()
            if inserted is None:
                assert task.idempotency_key is not None
                existing = self._one(
                    conn,
                    "SELECT * FROM tasks WHERE owner = %s AND idempotency_key = %s",
                    (task.owner, task.idempotency_key),
                )
                assert existing is not None
                return existing, False
            self._queued(conn, [task])
        return task, True

    def get(self, task_id: str, owner: str | None = None) -> Task | None:
        # Status polling is the hot path: read the version alone and reuse the decoded task
        # while it is unchanged (every change bumps the version).
        with self.connection() as conn:
            found = conn.execute(
                "SELECT version, owner FROM tasks WHERE id = %s", (task_id,)
            ).fetchone()
            if found is None or (owner is not None and found["owner"] != owner):
                return None
            cached = self._recent.get(task_id)
            if (
                cached is not None
                and cached.version == found["version"]
                and cached.owner == found["owner"]  # adopt() changes it, not the version
            ):
                return cached
            task = self._one(conn, "SELECT * FROM tasks WHERE id = %s", (task_id,))
        if task is not None:
            with self._recent_lock:
                if len(self._recent) >= _RECENT_MAX:
                    self._recent.clear()
                self._recent[task_id] = task
        return task

    def get_by_idempotency_key(self, owner: str, key: str) -> Task | None:
        with self.connection() as conn:
            return self._one(
                conn,
                "SELECT * FROM tasks WHERE owner = %s AND idempotency_key = %s",
                (owner, key),
            )

    def list_tasks(self, owner: str, query: TaskFilter) -> Page:
        where, args = _filter(owner, query)
        descending = query.order != "asc"
        if query.after is not None:
            op = "<" if descending else ">"
            where.append(f"seq {op} (SELECT seq FROM tasks WHERE id = %s AND owner = %s)")
            args += [query.after, owner]
        sql = (
            f"SELECT * FROM tasks WHERE {' AND '.join(where)} "
            f"ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT %s OFFSET %s"
        )
        with self.connection() as conn:
            found = conn.execute(sql, (*args, query.limit + 1, query.offset)).fetchall()
        items = [_task(r) for r in found[: query.limit]]
        has_more = len(found) > query.limit
        return Page(items, has_more, items[-1].id if has_more and items else None)

    def count_tasks(self, owner: str, query: TaskFilter) -> int:
        where, args = _filter(owner, query)
        with self.connection() as conn:
            row = conn.execute(
                f"SELECT COUNT(*) AS n FROM tasks WHERE {' AND '.join(where)}", args
            ).fetchone()
        return int(row["n"]) if row else 0

    def request_cancel(self, task_id: str, owner: str, now: float) -> Task | None:
        with self.transaction(versioned=True) as conn:
            conn.execute(
                "UPDATE tasks SET status = 'cancelled', stage = 'cancelled', completed_at = %s,"
                " updated_at = %s, cancel_requested = TRUE, cancel_requested_at = %s,"
                " error = %s, version = version + 1"
                " WHERE id = %s AND owner = %s AND status = 'queued'",
                (now, now, now, Jsonb(_CANCELLED_ERROR), task_id, owner),
            )
            conn.execute(
                "UPDATE tasks SET cancel_requested = TRUE, cancel_requested_at = %s,"
                " updated_at = %s, version = version + 1 WHERE id = %s AND owner = %s"
                " AND status = 'in_progress' AND NOT cancel_requested",
                (now, now, task_id, owner),
            )
            return self._one(
                conn, "SELECT * FROM tasks WHERE id = %s AND owner = %s", (task_id, owner)
            )

    def delete(self, task_id: str, owner: str) -> bool:
        with self.connection() as conn:
            cur = conn.execute(
                "DELETE FROM tasks WHERE id = %s AND owner = %s AND status <> ALL(%s)",
                (task_id, owner, _ACTIVE),
            )
        return cur.rowcount == 1

    def counts(self) -> dict[str, int]:
        with self.connection() as conn:
            found = conn.execute("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
            by_status = {r["status"]: int(r["n"]) for r in found}
        return {s.value: by_status.get(s.value, 0) for s in Status}

    def count_owned(self, owner: str) -> int:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT COUNT(*) AS n FROM tasks WHERE owner = %s", (owner,)
            ).fetchone()
        return int(row["n"]) if row else 0

    def adopt(self, from_owner: str, to_owner: str) -> int:
        if from_owner == to_owner:
            return 0
        # Neither UPDATE sets ``version``, so the event trigger (0001) does not fire. The
        # event-log lock is taken all the same: the event rows of a concurrent versioned write
        # land wholly before or after the move, and row locks come after it as everywhere.
        with self.transaction(versioned=True) as conn:
            conn.execute(
                "UPDATE tasks SET idempotency_key = NULL WHERE owner = %s AND idempotency_key IN"
                " (SELECT idempotency_key FROM tasks WHERE owner = %s"
                "  AND idempotency_key IS NOT NULL)",
                (from_owner, to_owner),
            )
            moved = conn.execute(
                "UPDATE tasks SET owner = %s WHERE owner = %s", (to_owner, from_owner)
            ).rowcount
            for table in _OWNED_TABLES:
                conn.execute(
                    f"UPDATE {table} SET owner = %s WHERE owner = %s", (to_owner, from_owner)
                )
        return moved

    # --- worker side --------------------------------------------------------------------
    def claim(
        self, worker_id: str, models: tuple[str, ...], now: float, lease_ttl: float
    ) -> Task | None:
        """The embedded dispatcher's way in (a queue scan); cluster workers use ``claim_task``."""
        model_filter = "AND model = ANY(%s)" if models else ""
        with self.transaction(versioned=True) as conn:
            return self._one(
                conn,
                "UPDATE tasks SET status = 'in_progress', stage = 'starting',"
                " attempt = attempt + 1, lease_owner = %s, lease_expires_at = %s,"
                " started_at = COALESCE(started_at, %s), updated_at = %s, version = version + 1"
                " WHERE seq = (SELECT seq FROM tasks WHERE status = 'queued' "
                f" {model_filter} ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " RETURNING *",
                (worker_id, now + lease_ttl, now, now, *([list(models)] if models else [])),
            )

    def claim_task(
        self, task_id: str, attempt: int, worker_id: str, now: float, lease_ttl: float
    ) -> Task | None:
        """Lease one task for ``attempt`` (its job's attempt). None when the task is not
        waiting for exactly that attempt: cancelled, finished, or a duplicate job."""
        with self.transaction(versioned=True) as conn:
            return self._one(
                conn,
                "UPDATE tasks SET status = 'in_progress', stage = 'starting', attempt = %s,"
                " lease_owner = %s, lease_expires_at = %s, started_at = COALESCE(started_at, %s),"
                " updated_at = %s, version = version + 1"
                " WHERE id = %s AND status = 'queued' AND attempt = %s RETURNING *",
                (attempt, worker_id, now + lease_ttl, now, now, task_id, attempt - 1),
            )

    def heartbeat(self, fence: Fence, now: float, lease_ttl: float) -> Task | None:
        with self.connection() as conn:
            return self._one(
                conn,
                "UPDATE tasks SET lease_expires_at = %s WHERE " + _FENCED + " RETURNING *",
                (now + lease_ttl, *_fence_args(fence)),
            )

    def report(
        self,
        fence: Fence,
        now: float,
        lease_ttl: float,
        *,
        stage: str | None = None,
        progress: float | None = None,
        previews: list[dict[str, Any]] | None = None,
    ) -> bool:
        with self.transaction(versioned=True) as conn:
            cur = conn.execute(
                "UPDATE tasks SET stage = COALESCE(%s, stage),"
                " progress = GREATEST(progress,"
                "   LEAST(100.0, GREATEST(0.0, COALESCE(%s::double precision, progress)))),"
                " previews = COALESCE(%s, previews),"
                " lease_expires_at = %s, updated_at = %s, version = version + 1 WHERE " + _FENCED,
                (
                    stage,
                    progress,
                    None if previews is None else Jsonb(previews),
                    now + lease_ttl,
                    now,
                    *_fence_args(fence),
                ),
            )
        return cur.rowcount == 1

    def checkpoint(self, fence: Fence, now: float, ref: dict[str, Any]) -> bool:
        with self.transaction(versioned=True) as conn:
            cur = conn.execute(
                "UPDATE tasks SET external_ref = jsonb_set(external_ref, '{checkpoint}',"
                "   CASE WHEN jsonb_typeof(external_ref->'checkpoint') = 'object'"
                "   THEN external_ref->'checkpoint' ELSE '{}'::jsonb END || %s),"
                " updated_at = %s, version = version + 1 WHERE " + _FENCED,
                (Jsonb(ref), now, *_fence_args(fence)),
            )
        return cur.rowcount == 1

    def finish(
        self,
        fence: Fence,
        now: float,
        status: Status,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        if not status.terminal:
            raise ValueError(f"finish() needs a terminal status, not {status}")
        progress_sql = "100.0" if status is Status.COMPLETED else "progress"
        stage = "done" if status is Status.COMPLETED else status.value
        with self.transaction(versioned=True) as conn:
            cur = conn.execute(
                f"UPDATE tasks SET status = %s, stage = %s, progress = {progress_sql},"
                " result = %s, error = %s, completed_at = %s, updated_at = %s,"
                " lease_owner = NULL, lease_expires_at = NULL, version = version + 1"
                " WHERE " + _FENCED,
                (
                    status.value,
                    stage,
                    None if result is None else Jsonb(result),
                    None if error is None else Jsonb(error),
                    now,
                    now,
                    *_fence_args(fence),
                ),
            )
        return cur.rowcount == 1

    def release(self, fence: Fence, now: float) -> bool:
        with self.transaction(versioned=True) as conn:
            task = self._one(
                conn,
                "UPDATE tasks SET status = 'queued', stage = 'queued', attempt = attempt - 1,"
                " lease_owner = NULL, lease_expires_at = NULL, updated_at = %s,"
                " version = version + 1 WHERE NOT cancel_requested AND " + _FENCED + " RETURNING *",
                (now, *_fence_args(fence)),
            )
            if task is not None:
                self._queued(conn, [task])
        return task is not None

    # --- supervisor side ------------------------------------------------------------------
    def recover(
        self, now: float, *, worker_id: str | None = None, everything: bool = False
    ) -> list[Task]:
        args: tuple[str | float, ...] = ()
        if everything:
            select = ""
        elif worker_id is not None:
            select, args = " AND lease_owner = %s", (worker_id,)
        else:
            select, args = " AND lease_expires_at < %s", (now,)
        outcome = (
            "CASE WHEN cancel_requested THEN 'cancelled'"
            " WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END"
        )
        with self.transaction(versioned=True) as conn:
            found = conn.execute(
                f"UPDATE tasks SET status = {outcome}, stage = {outcome},"
                " error = CASE WHEN cancel_requested THEN %s"
                "   WHEN attempt < max_attempts THEN NULL ELSE %s END,"
                " completed_at = CASE WHEN cancel_requested OR attempt >= max_attempts"
                "   THEN %s ELSE NULL END,"
                " lease_owner = NULL, lease_expires_at = NULL, updated_at = %s,"
                " version = version + 1"
                " WHERE status = 'in_progress'" + select + " RETURNING *",
                (Jsonb(_CANCELLED_ERROR), Jsonb(_LOST_ERROR), now, now, *args),
            ).fetchall()
            tasks = [_task(r) for r in found]
            self._queued(conn, tasks)
        return tasks

    def overdue_cancels(self, now: float, grace: float) -> list[Task]:
        with self.connection() as conn:
            found = conn.execute(
                "SELECT * FROM tasks WHERE status = 'in_progress' AND cancel_requested"
                " AND cancel_requested_at < %s",
                (now - grace,),
            ).fetchall()
        return [_task(r) for r in found]

    def expire_overdue(self, now: float) -> list[Task]:
        with self.transaction(versioned=True) as conn:
            found = conn.execute(
                "UPDATE tasks SET status = 'failed', stage = 'expired', error = %s,"
                " completed_at = %s, updated_at = %s, lease_owner = NULL,"
                " lease_expires_at = NULL, version = version + 1"
                " WHERE status IN ('queued', 'in_progress') AND expires_at IS NOT NULL"
                " AND expires_at < %s RETURNING *",
                (Jsonb(_EXPIRED_ERROR), now, now, now),
            ).fetchall()
        return [_task(r) for r in found]

    def requeue_stranded(self, before: float) -> list[Task]:
        """Defer a new job for each task queued since before ``before`` that has no live
        Procrastinate job (its job failed before it could claim the task, e.g. while the
        database was unreachable). Without this such a task would wait forever."""
        with self.transaction() as conn:
            found = conn.execute(
                "SELECT * FROM tasks t WHERE status = 'queued' AND updated_at < %s"
                " AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j"
                "   WHERE j.status IN ('todo', 'doing') AND j.args->>'task_id' = t.id)"
                " FOR UPDATE SKIP LOCKED",
                (before,),
            ).fetchall()
            tasks = [_task(r) for r in found]
            self._queued(conn, tasks)
        return tasks

    # --- events -------------------------------------------------------------------------
    def last_event_seq(self) -> int:
        with self.connection() as conn:
            row = conn.execute("SELECT COALESCE(MAX(seq), 0) AS seq FROM task_events").fetchone()
        return int(row["seq"]) if row else 0

    def events_since(
        self, seq: int, limit: int = 1000, *, owner: str | None = None
    ) -> list[Change]:
        columns = "SELECT seq, task_id, owner, model, version, status FROM task_events"
        with self.connection() as conn:
            if owner is None:
                found = conn.execute(
                    columns + " WHERE seq > %s ORDER BY seq LIMIT %s", (seq, limit)
                ).fetchall()
            else:
                found = conn.execute(
                    columns + " WHERE owner = %s AND seq > %s ORDER BY seq LIMIT %s",
                    (owner, seq, limit),
                ).fetchall()
        return [
            Change(
                r["seq"], r["task_id"], r["owner"], r["model"], r["version"], Status(r["status"])
            )
            for r in found
        ]

    def task_history(
        self, task_id: str, owner: str, after_version: int, limit: int = -1
    ) -> list[Task]:
        current = self.get(task_id, owner)
        if current is None:
            return []
        with self.connection() as conn:
            found = conn.execute(
                "SELECT * FROM task_events WHERE task_id = %s AND version > %s ORDER BY version"
                " LIMIT %s",
                (task_id, after_version, None if limit < 0 else limit),
            ).fetchall()
        return [rows.as_of(current, r, _same) for r in found]

    def event_at(self, seq: int) -> Task | None:
        with self.connection() as conn:
            event = conn.execute("SELECT * FROM task_events WHERE seq = %s", (seq,)).fetchone()
        if event is None:
            return None
        current = self.get(event["task_id"])
        return None if current is None else rows.as_of(current, event, _same)

    def prune_events(self, before: float, keep_from_seq: int) -> int:
        with self.connection() as conn:
            cur = conn.execute(
                "DELETE FROM task_events WHERE updated_at < %s AND seq < %s",
                (before, keep_from_seq),
            )
        return cur.rowcount

    # --- keys ---------------------------------------------------------------------------
    def create_key(self, key_id: str, name: str, secret_hash: str, now: float) -> ApiKey:
        with self.connection() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, name, hash, created_at) VALUES (%s, %s, %s, %s)",
                (key_id, name, secret_hash, now),
            )
        return ApiKey(key_id, name, now)

    def find_key(self, secret_hash: str) -> ApiKey | None:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT * FROM api_keys WHERE hash = %s AND revoked_at IS NULL", (secret_hash,)
            ).fetchone()
        return None if row is None else _key(row)

    def list_keys(self) -> list[ApiKey]:
        with self.connection() as conn:
            found = conn.execute("SELECT * FROM api_keys ORDER BY created_at").fetchall()
        return [_key(r) for r in found]

    def revoke_key(self, key_id: str, now: float) -> bool:
        with self.connection() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
                (now, key_id),
            )
        return cur.rowcount == 1

    def has_active_keys(self) -> bool:
        with self.connection() as conn:
            row = conn.execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone()
        return row is not None

    # --- helpers ------------------------------------------------------------------------
    @staticmethod
    def _one(conn: psycopg.Connection[Any], sql: str, args: tuple[Any, ...]) -> Task | None:
        row = conn.execute(sql, args).fetchone()
        return None if row is None else _task(row)


_RECENT_MAX = 10_000
#: The tables besides ``tasks`` whose rows belong to an owner (what ``adopt`` moves).
_OWNED_TABLES = ("task_events", "webhook_endpoints", "webhook_deliveries", "drafts")
_FENCED = "id = %s AND lease_owner = %s AND attempt = %s AND status = 'in_progress'"
_CANCELLED_ERROR = {"code": "cancelled", "message": "the task was cancelled"}
_LOST_ERROR = {"code": "worker_lost", "message": "the worker running this task died"}
_EXPIRED_ERROR = {"code": "expired", "message": "the task did not finish before its deadline"}


def _same(value: Any) -> Any:
    return value  # psycopg already decoded the jsonb column


def _task(row: rows.Row) -> Task:
    return rows.from_row(row, _same)


def _filter(owner: str, query: TaskFilter) -> tuple[list[str], list[Any]]:
    """The WHERE terms and arguments of a task query (without its paging)."""
    where: list[str] = ["owner = %s"]
    args: list[Any] = [owner]
    if query.statuses:
        where.append("status = ANY(%s)")
        args.append([s.value for s in query.statuses])
    if query.model is not None:
        where.append("model = %s")
        args.append(query.model)
    if query.created_after is not None:
        where.append("created_at >= %s")
        args.append(query.created_after)
    if query.created_before is not None:
        where.append("created_at < %s")
        args.append(query.created_before)
    if query.ids:
        where.append("id = ANY(%s)")
        args.append(list(query.ids))
    if query.requested_model is not None:
        where.append("COALESCE(external_ref->>'requested_model', model) = %s")
        args.append(query.requested_model)
    if query.error_code is not None:
        where.append("error->>'code' = %s")
        args.append(query.error_code)
    if query.not_error_code is not None:
        where.append("COALESCE(error->>'code', '') <> %s")
        args.append(query.not_error_code)
    if query.id_prefix:
        # Served by tasks_owner_id (0003, text_pattern_ops): LIKE compares byte-wise, and the
        # prefix's own ``%``, ``_`` and ``\`` are escaped so they match only themselves.
        where.append("id LIKE %s")
        args.append(_like_escape(query.id_prefix) + "%")
    return where, args


def _like_escape(text: str) -> str:
    """``text`` as a literal LIKE pattern (backslash is LIKE's default escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fence_args(fence: Fence) -> tuple[str, str, int]:
    return fence.task_id, fence.worker_id, fence.attempt


def _key(row: rows.Row) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"])
