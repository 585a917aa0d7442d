"""The embedded store: one SQLite file in WAL mode, shared by the API process and its workers.

Each thread gets its own connection (reads never wait on writes in WAL mode). Every write is
one statement or one ``BEGIN IMMEDIATE`` transaction, so the API and worker processes never
interleave half-done changes. A write that finds the disk full raises ``StorageError``
(``storage_error``), naming the folder and its free space.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vidtask.core import errors
from vidtask.core.task import ACTIVE, Status, Task
from vidtask.store import migrate, rows
from vidtask.store.base import ApiKey, Change, Fence, Page, TaskFilter

__all__ = ["SQLiteStore"]

_ACTIVE = tuple(s.value for s in ACTIVE)


class SQLiteStore:
    def __init__(self, path: Path, *, migrate_schema: bool = True) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._recent: dict[str, Task] = {}
        if migrate_schema:
            migrate.upgrade(f"sqlite:///{path}")
        self._conn()  # fail fast on an unreadable file

    # --- connections ------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: each statement is its own transaction)."""
        return self._conn()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``)."""
        with self._write() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (SQLITE_FULL does); a failed COMMIT
                # must not leave the transaction open on this thread's connection.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                raise
            folder = self.path.parent
            raise errors.no_space(str(folder), shutil.disk_usage(folder).free) from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- API side ---------------------------------------------------------------------
    def create(self, task: Task) -> tuple[Task, bool]:
        row = _to_row(task)
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._write() as conn:
            if task.idempotency_key is not None:
                existing = self.get_by_idempotency_key(task.owner, task.idempotency_key)
                if existing is not None:
                    return existing, False
            conn.execute(f"INSERT INTO tasks ({columns}) VALUES ({marks})", tuple(row.values()))
        return task, True

    def get(self, task_id: str, owner: str | None = None) -> Task | None:
        # Status polling is the hot path: look up the version alone and reuse the decoded
        # task while it is unchanged (every change bumps the version).
        conn = self._conn()
        found = conn.execute("SELECT version, owner FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if found is None or (owner is not None and found[1] != owner):
            return None
        cached = self._recent.get(task_id)
        if cached is not None and cached.version == found[0] and cached.owner == found[1]:
            return cached  # (adopt() changes the owner, not the version)
        row = conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        if row is None:
            return None
        task = _from_row(row)
        if len(self._recent) >= _RECENT_MAX:
            self._recent.clear()
        self._recent[task_id] = task
        return task

    def get_by_idempotency_key(self, owner: str, key: str) -> Task | None:
        row = (
            self._conn()
            .execute("SELECT * FROM tasks WHERE owner = ? AND idempotency_key = ?", (owner, key))
            .fetchone()
        )
        return None if row is None else _from_row(row)

    def list_tasks(self, owner: str, query: TaskFilter) -> Page:
        where, args = _filter(owner, query)
        descending = query.order != "asc"
        if query.after is not None:
            op = "<" if descending else ">"
            where.append(f"seq {op} (SELECT seq FROM tasks WHERE id = ? AND owner = ?)")
            args += [query.after, owner]
        sql = (
            f"SELECT * FROM tasks WHERE {' AND '.join(where)} "
            f"ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT ? OFFSET ?"
        )
        rows = self._conn().execute(sql, (*args, query.limit + 1, query.offset)).fetchall()
        items = [_from_row(r) for r in rows[: query.limit]]
        has_more = len(rows) > query.limit
        return Page(items, has_more, items[-1].id if has_more and items else None)

    def count_tasks(self, owner: str, query: TaskFilter) -> int:
        where, args = _filter(owner, query)
        sql = f"SELECT COUNT(*) FROM tasks WHERE {' AND '.join(where)}"
        return int(self._conn().execute(sql, args).fetchone()[0])

    def request_cancel(self, task_id: str, owner: str, now: float) -> Task | None:
        with self._write() as conn:
            conn.execute(
                "UPDATE tasks SET status = 'cancelled', stage = 'cancelled', completed_at = ?,"
                " updated_at = ?, cancel_requested = 1, cancel_requested_at = ?,"
                " error = ?, version = version + 1"
                " WHERE id = ? AND owner = ? AND status = 'queued'",
                (now, now, now, _CANCELLED_ERROR, task_id, owner),
            )
            conn.execute(
                "UPDATE tasks SET cancel_requested = 1, cancel_requested_at = ?, updated_at = ?,"
                " version = version + 1"
                " WHERE id = ? AND owner = ? AND status = 'in_progress' AND cancel_requested = 0",
                (now, now, task_id, owner),
            )
            row = conn.execute(
                "SELECT * FROM tasks WHERE id = ? AND owner = ?", (task_id, owner)
            ).fetchone()
        return None if row is None else _from_row(row)

    def delete(self, task_id: str, owner: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM tasks WHERE id = ? AND owner = ? AND status NOT IN (?, ?)",
                (task_id, owner, *_ACTIVE),
            )
        return cur.rowcount == 1

    def counts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT status, COUNT(*) FROM tasks GROUP BY status")
        found = {status: count for status, count in rows}
        return {s.value: int(found.get(s.value, 0)) for s in Status}

    def count_owned(self, owner: str) -> int:
        row = self._conn().execute("SELECT COUNT(*) FROM tasks WHERE owner = ?", (owner,))
        return int(row.fetchone()[0])

    def adopt(self, from_owner: str, to_owner: str) -> int:
        if from_owner == to_owner:
            return 0
        with self._write() as conn:
            # Neither statement sets ``version``, so the event trigger (0002) stays quiet.
            conn.execute(
                "UPDATE tasks SET idempotency_key = NULL WHERE owner = ? AND idempotency_key IN"
                " (SELECT idempotency_key FROM tasks WHERE owner = ?"
                "  AND idempotency_key IS NOT NULL)",
                (from_owner, to_owner),
            )
            moved = conn.execute(
                "UPDATE tasks SET owner = ? WHERE owner = ?", (to_owner, from_owner)
            ).rowcount
            for table in _OWNED_TABLES:
                conn.execute(
                    f"UPDATE {table} SET owner = ? WHERE owner = ?", (to_owner, from_owner)
                )
        return moved

    # --- worker side --------------------------------------------------------------------
    def claim(
        self, worker_id: str, models: tuple[str, ...], now: float, lease_ttl: float
    ) -> Task | None:
        model_filter = f"AND model IN ({', '.join('?' for _ in models)})" if models else ""
        with self._write() as conn:
            row = conn.execute(
                "UPDATE tasks SET status = 'in_progress', stage = 'starting',"
                " attempt = attempt + 1, lease_owner = ?, lease_expires_at = ?,"
                " started_at = COALESCE(started_at, ?), updated_at = ?, version = version + 1"
                " WHERE seq = (SELECT seq FROM tasks WHERE status = 'queued' "
                f" {model_filter} ORDER BY priority DESC, seq LIMIT 1)"
                " RETURNING *",
                (worker_id, now + lease_ttl, now, now, *models),
            ).fetchone()
        return None if row is None else _from_row(row)

    def heartbeat(self, fence: Fence, now: float, lease_ttl: float) -> Task | None:
        with self._write() as conn:
            row = conn.execute(
                "UPDATE tasks SET lease_expires_at = ? WHERE " + _FENCED + " RETURNING *",
                (now + lease_ttl, *_fence_args(fence)),
            ).fetchone()
        return None if row is None else _from_row(row)

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
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE tasks SET stage = COALESCE(?, stage),"
                " progress = MAX(progress, MIN(100.0, MAX(0.0, COALESCE(?, progress)))),"
                " previews = COALESCE(?, previews),"
                " lease_expires_at = ?, updated_at = ?, version = version + 1 WHERE " + _FENCED,
                (
                    stage,
                    progress,
                    None if previews is None else json.dumps(previews),
                    now + lease_ttl,
                    now,
                    *_fence_args(fence),
                ),
            )
        return cur.rowcount == 1

    def checkpoint(self, fence: Fence, now: float, ref: dict[str, Any]) -> bool:
        # Merged here, not by json_patch(): that one deletes keys set to null and merges nested
        # objects, where PostgreSQL's ``||`` (and this) replace them.
        with self._write() as conn:
            row = conn.execute(
                "SELECT external_ref FROM tasks WHERE " + _FENCED, _fence_args(fence)
            ).fetchone()
            if row is None:
                return False
            external = json.loads(row[0])
            saved = external.get("checkpoint")
            external["checkpoint"] = {**(saved if isinstance(saved, dict) else {}), **ref}
            conn.execute(
                "UPDATE tasks SET external_ref = ?, updated_at = ?, version = version + 1"
                " WHERE id = ?",
                (json.dumps(external), now, fence.task_id),
            )
        return True

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
        with self._write() as conn:
            cur = conn.execute(
                f"UPDATE tasks SET status = ?, stage = ?, progress = {progress_sql},"
                " result = ?, error = ?, completed_at = ?, updated_at = ?,"
                " lease_owner = NULL, lease_expires_at = NULL, version = version + 1"
                " WHERE " + _FENCED,
                (
                    status.value,
                    stage,
                    None if result is None else json.dumps(result),
                    None if error is None else json.dumps(error),
                    now,
                    now,
                    *_fence_args(fence),
                ),
            )
        return cur.rowcount == 1

    def release(self, fence: Fence, now: float) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE tasks SET status = 'queued', stage = 'queued', attempt = attempt - 1,"
                " lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,"
                " version = version + 1 WHERE cancel_requested = 0 AND " + _FENCED,
                (now, *_fence_args(fence)),
            )
        return cur.rowcount == 1

    # --- supervisor side ------------------------------------------------------------------
    def recover(
        self, now: float, *, worker_id: str | None = None, everything: bool = False
    ) -> list[Task]:
        args: tuple[str | float, ...] = ()
        if everything:
            select = ""
        elif worker_id is not None:
            select, args = " AND lease_owner = ?", (worker_id,)
        else:
            select, args = " AND lease_expires_at < ?", (now,)
        lost = json.dumps({"code": "worker_lost", "message": "the worker running this task died"})
        outcome = (
            "CASE WHEN cancel_requested = 1 THEN 'cancelled'"
            " WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END"
        )
        with self._write() as conn:
            rows = conn.execute(
                f"UPDATE tasks SET status = {outcome}, stage = {outcome},"
                " error = CASE WHEN cancel_requested = 1 THEN ?"
                "   WHEN attempt < max_attempts THEN NULL ELSE ? END,"
                " completed_at = CASE WHEN cancel_requested = 1 OR attempt >= max_attempts"
                "   THEN ? ELSE NULL END,"
                " lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,"
                " version = version + 1"
                " WHERE status = 'in_progress'" + select + " RETURNING *",
                (_CANCELLED_ERROR, lost, now, now, *args),
            ).fetchall()
        return [_from_row(row) for row in rows]

    def overdue_cancels(self, now: float, grace: float) -> list[Task]:
        rows = self._conn().execute(
            "SELECT * FROM tasks WHERE status = 'in_progress' AND cancel_requested = 1"
            " AND cancel_requested_at < ?",
            (now - grace,),
        )
        return [_from_row(r) for r in rows]

    def expire_overdue(self, now: float) -> list[Task]:
        # The status and deadline terms match the partial index tasks_deadline (0005).
        with self._write() as conn:
            rows = conn.execute(
                "UPDATE tasks SET status = 'failed', stage = 'expired', error = ?,"
                " completed_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL,"
                " version = version + 1"
                " WHERE status IN ('queued', 'in_progress') AND expires_at IS NOT NULL"
                " AND expires_at < ? RETURNING *",
                (_EXPIRED_ERROR, now, now, now),
            ).fetchall()
        return [_from_row(row) for row in rows]

    # --- events -------------------------------------------------------------------------
    def last_event_seq(self) -> int:
        row = self._conn().execute("SELECT MAX(seq) FROM task_events").fetchone()
        return int(row[0] or 0)

    def events_since(
        self, seq: int, limit: int = 1000, *, owner: str | None = None
    ) -> list[Change]:
        columns = "SELECT seq, task_id, owner, model, version, status FROM task_events"
        if owner is None:
            rows = self._conn().execute(
                columns + " WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            )
        else:
            rows = self._conn().execute(
                columns + " WHERE owner = ? AND seq > ? ORDER BY seq LIMIT ?", (owner, seq, limit)
            )
        return [Change(r[0], r[1], r[2], r[3], r[4], Status(r[5])) for r in rows]

    def task_history(
        self, task_id: str, owner: str, after_version: int, limit: int = -1
    ) -> list[Task]:
        current = self.get(task_id, owner)
        if current is None:
            return []
        rows = self._conn().execute(
            "SELECT * FROM task_events WHERE task_id = ? AND version > ? ORDER BY version LIMIT ?",
            (task_id, after_version, limit),
        )
        return [_as_of(current, row) for row in rows]

    def event_at(self, seq: int) -> Task | None:
        row = self._conn().execute("SELECT * FROM task_events WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            return None
        current = self.get(row["task_id"])
        return None if current is None else _as_of(current, row)

    def prune_events(self, before: float, keep_from_seq: int) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM task_events WHERE updated_at < ? AND seq < ?", (before, keep_from_seq)
            )
        return cur.rowcount

    # --- keys ---------------------------------------------------------------------------
    def create_key(self, key_id: str, name: str, secret_hash: str, now: float) -> ApiKey:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, name, hash, created_at) VALUES (?, ?, ?, ?)",
                (key_id, name, secret_hash, now),
            )
        return ApiKey(key_id, name, now)

    def find_key(self, secret_hash: str) -> ApiKey | None:
        row = (
            self._conn()
            .execute("SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL", (secret_hash,))
            .fetchone()
        )
        return None if row is None else _key(row)

    def list_keys(self) -> list[ApiKey]:
        rows = self._conn().execute("SELECT * FROM api_keys ORDER BY created_at")
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: str, now: float) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (now, key_id),
            )
        return cur.rowcount == 1

    def has_active_keys(self) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1")
            .fetchone()
        )
        return row is not None


_RECENT_MAX = 10_000
#: The tables besides ``tasks`` whose rows belong to an owner (what ``adopt`` moves).
_OWNED_TABLES = ("task_events", "webhook_endpoints", "webhook_deliveries", "drafts")
_FENCED = "id = ? AND lease_owner = ? AND attempt = ? AND status = 'in_progress'"
_CANCELLED_ERROR = json.dumps({"code": "cancelled", "message": "the task was cancelled"})
_EXPIRED_ERROR = json.dumps(
    {"code": "expired", "message": "the task did not finish before its deadline"}
)


def _filter(owner: str, query: TaskFilter) -> tuple[list[str], list[str | float]]:
    """The WHERE terms and arguments of a task query (without its paging)."""
    where: list[str] = ["owner = ?"]
    args: list[str | float] = [owner]
    if query.statuses:
        where.append(f"status IN ({', '.join('?' for _ in query.statuses)})")
        args += [s.value for s in query.statuses]
    if query.model is not None:
        where.append("model = ?")
        args.append(query.model)
    if query.created_after is not None:
        where.append("created_at >= ?")
        args.append(query.created_after)
    if query.created_before is not None:
        where.append("created_at < ?")
        args.append(query.created_before)
    if query.ids:
        where.append(f"id IN ({', '.join('?' for _ in query.ids)})")
        args += list(query.ids)
    if query.requested_model is not None:
        where.append("COALESCE(json_extract(external_ref, '$.requested_model'), model) = ?")
        args.append(query.requested_model)
    if query.error_code is not None:
        where.append("json_extract(error, '$.code') = ?")
        args.append(query.error_code)
    if query.not_error_code is not None:
        where.append("COALESCE(json_extract(error, '$.code'), '') <> ?")
        args.append(query.not_error_code)
    if query.id_prefix:
        # A range over the index tasks_owner_id (0007). ``id`` compares byte-wise (BINARY),
        # and UTF-8 byte order is code point order, so these bounds hold exactly the ids that
        # start with the prefix (LIKE would ignore case; GLOB would need escaping).
        where.append("id >= ?")
        args.append(query.id_prefix)
        upper = _prefix_upper_bound(query.id_prefix)
        if upper is not None:
            where.append("id < ?")
            args.append(upper)
    return where, args


def _prefix_upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (in code point order),
    or None when there is none (a prefix of only U+10FFFF characters)."""
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters (not valid in UTF-8)
        following = 0xE000
    return stem[:-1] + chr(following)


def _fence_args(fence: Fence) -> tuple[str, str, int]:
    return fence.task_id, fence.worker_id, fence.attempt


def _to_row(task: Task) -> dict[str, Any]:
    row = rows.to_row(task, json.dumps)
    row["cancel_requested"] = int(task.cancel_requested)
    return row


def _from_row(row: sqlite3.Row) -> Task:
    return rows.from_row(row, json.loads)


def _as_of(current: Task, event: sqlite3.Row) -> Task:
    return rows.as_of(current, event, json.loads)


def _key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"])
