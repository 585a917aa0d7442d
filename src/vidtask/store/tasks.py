"""The task store, written once: the `TaskStore` logic over a `Connector`, which runs the named
statements of `vidtask.store.sql` on SQLite (`SQLiteStore`) or PostgreSQL (`PostgresStore`).

The status guards in those statements are rendered from `vidtask.core.task.MOVES`; this module
checks ``finish``'s target against it too, so the state machine is written only in ``core``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from typing_extensions import TypeIs

from vidtask.core.task import MOVES, Status, Task
from vidtask.store import rows, sql
from vidtask.store.base import ApiKey, Change, Fence, Page, TaskFilter
from vidtask.store.connector import Connector, Session

__all__ = ["OnQueued", "SQLTaskStore", "task_filter", "visible"]

#: Called inside the transaction that made these tasks ``queued``, with its driver connection.
OnQueued = Callable[[Any, list[Task]], None]

C = TypeVar("C", bound=Connector)


class SQLTaskStore(Generic[C]):
    """The `TaskStore` over one engine's connector.

    Status polling is the hot path: `get` reads the version alone and reuses the decoded task
    while it is unchanged (every change bumps the version; `adopt` changes the owner, not the
    version, so the owner is compared too)."""

    def __init__(self, db: C, *, on_queued: OnQueued | None = None) -> None:
        self.db = db
        self.on_queued = on_queued
        self.queries = db.queries
        self._recent: dict[str, Task] = {}
        self._recent_lock = threading.Lock()
        #: A task's version and owner, then the whole row (`get`).
        self.version_sql = db.queries["task_version"]
        self.task_sql = db.queries["task"]

    def close(self) -> None:
        self.db.close()

    # --- API side ---------------------------------------------------------------------
    def create(self, task: Task) -> tuple[Task, bool]:
        q = self.queries
        with self.db.transaction(versioned=True) as s:
            if s.one(q["insert_task"], rows.to_row(task, self.db.json)) is None:
                existing = s.one(
                    q["task_by_key"], {"owner": task.owner, "key": task.idempotency_key}
                )
                assert existing is not None  # the insert only yields to an existing key
                return self._task(existing), False
            self._queued(s, [task])
        return task, True

    def get(self, task_id: str, owner: str | None = None) -> Task | None:
        params = {"id": task_id}
        with self.db.read() as s:
            found = s.one(self.version_sql, params)
            if not visible(found, owner):
                return None
            task = self.reuse(task_id, found)
            if task is None:
                task = self.remember(s.one(self.task_sql, params))
        return task

    # `get` in three steps, shared with an engine's awaitable reads (`store.postgres.AsyncReads`).
    def reuse(self, task_id: str, found: rows.Row) -> Task | None:
        """The decoded task, if it is the version (and owner) ``found`` in `version_sql`."""
        cached = self._recent.get(task_id)
        if cached is None or cached.version != found["version"] or cached.owner != found["owner"]:
            return None
        return cached

    def remember(self, row: rows.Row | None) -> Task | None:
        """The task of a `task_sql` row, kept for `reuse`."""
        if row is None:
            return None
        task = self._task(row)
        with self._recent_lock:
            if len(self._recent) >= _RECENT_MAX:
                self._recent.clear()
            self._recent[task.id] = task
        return task

    def get_by_idempotency_key(self, owner: str, key: str) -> Task | None:
        with self.db.read() as s:
            row = s.one(self.queries["task_by_key"], {"owner": owner, "key": key})
        return None if row is None else self._task(row)

    def list_tasks(self, owner: str, query: TaskFilter) -> Page:
        where, params = task_filter(self.queries, owner, query)
        descending = query.order != "asc"
        if query.after is not None:
            where.append(f"seq {'<' if descending else '>'} ({self.queries['page_after']})")
            params["after"] = query.after
        params.update(limit=query.limit + 1, offset=query.offset)
        statement = (
            f"SELECT * FROM tasks WHERE {' AND '.join(where)}"
            f" ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT :limit OFFSET :offset"
        )
        with self.db.read() as s:
            found = s.all(statement, params)
        items = [self._task(r) for r in found[: query.limit]]
        has_more = len(found) > query.limit
        return Page(items, has_more, items[-1].id if has_more and items else None)

    def count_tasks(self, owner: str, query: TaskFilter) -> int:
        where, params = task_filter(self.queries, owner, query)
        with self.db.read() as s:
            row = s.one(f"SELECT COUNT(*) AS n FROM tasks WHERE {' AND '.join(where)}", params)
        return 0 if row is None else int(row["n"])

    def request_cancel(self, task_id: str, owner: str, now: float) -> Task | None:
        q = self.queries
        params = {"id": task_id, "owner": owner, "now": now, "error": self.db.json(_CANCELLED)}
        with self.db.transaction(versioned=True) as s:
            s.run(q["cancel_queued"], params)
            s.run(q["flag_cancel"], params)
            row = s.one(q["owned_task"], params)
        return None if row is None else self._task(row)

    def delete(self, task_id: str, owner: str) -> bool:
        with self.db.write() as s:
            return s.run(self.queries["delete_task"], {"id": task_id, "owner": owner}) == 1

    def counts(self) -> dict[str, int]:
        with self.db.read() as s:
            found = {r["status"]: int(r["n"]) for r in s.all(self.queries["count_by_status"], {})}
        return {status.value: found.get(status.value, 0) for status in Status}

    def count_owned(self, owner: str) -> int:
        with self.db.read() as s:
            row = s.one(self.queries["count_owned"], {"owner": owner})
        return 0 if row is None else int(row["n"])

    def adopt(self, from_owner: str, to_owner: str) -> int:
        if from_owner == to_owner:
            return 0
        q = self.queries
        params = {"from_owner": from_owner, "to_owner": to_owner}
        # Nothing here sets ``version``, so no event is written. The transaction is versioned
        # all the same: on PostgreSQL the event rows of a concurrent versioned write land wholly
        # before or after the move, and row locks come after the event-log lock as everywhere.
        with self.db.transaction(versioned=True) as s:
            s.run(q["adopt_clear_keys"], params)
            moved = s.run(q["adopt_tasks"], params)
            for table in _OWNED_TABLES:
                s.run(q[f"adopt_{table}"], params)
        return moved

    # --- worker side --------------------------------------------------------------------
    def claim(
        self, worker_id: str, models: tuple[str, ...], now: float, lease_ttl: float
    ) -> Task | None:
        params = {
            "worker_id": worker_id,
            "lease_expires_at": now + lease_ttl,
            "now": now,
            "any_model": not models,
            "models": self.db.array(models),
        }
        with self.db.transaction(versioned=True) as s:
            row = s.one(self.queries["claim"], params)
        return None if row is None else self._task(row)

    def heartbeat(self, fence: Fence, now: float, lease_ttl: float) -> Task | None:
        params = {**_fence(fence), "lease_expires_at": now + lease_ttl}
        with self.db.write() as s:
            row = s.one(self.queries["heartbeat"], params)
        return None if row is None else self._task(row)

    def renew_leases(self, worker_id: str, now: float, lease_ttl: float) -> set[str]:
        params = {"worker_id": worker_id, "lease_expires_at": now + lease_ttl}
        with self.db.write() as s:
            return {str(row["id"]) for row in s.all(self.queries["renew_leases"], params)}

    def cancels_requested(self, worker_id: str) -> set[str]:
        with self.db.read() as s:
            rows = s.all(self.queries["cancels_requested"], {"worker_id": worker_id})
        return {str(row["id"]) for row in rows}

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
        params = {
            **_fence(fence),
            "stage": stage,
            "progress": None if progress is None else min(100.0, max(0.0, float(progress))),
            "previews": None if previews is None else self.db.json(previews),
            "lease_expires_at": now + lease_ttl,
            "now": now,
        }
        with self.db.transaction(versioned=True) as s:
            return s.run(self.queries["report"], params) == 1

    def checkpoint(self, fence: Fence, now: float, ref: dict[str, Any]) -> bool:
        # Merged here, the same on both engines: SQLite's json_patch() would delete the keys set
        # to null and merge nested objects, where this replaces them (as PostgreSQL's ``||``).
        q = self.queries
        with self.db.transaction(versioned=True) as s:
            row = s.one(q["checkpoint_read"], _fence(fence))
            if row is None:
                return False
            external = dict(self.db.load(row["external_ref"]))
            saved = external.get("checkpoint")
            external["checkpoint"] = {**(saved if isinstance(saved, dict) else {}), **ref}
            s.run(
                q["checkpoint_write"],
                {"id": fence.task_id, "external_ref": self.db.json(external), "now": now},
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
        if status not in MOVES["finish"].targets:
            raise ValueError(f"finish() needs a terminal status, not {status}")
        completed = status is Status.COMPLETED
        params = {
            **_fence(fence),
            "status": status.value,
            "stage": "done" if completed else status.value,
            "progress": 100.0 if completed else None,
            "result": None if result is None else self.db.json(result),
            "error": None if error is None else self.db.json(error),
            "now": now,
        }
        with self.db.transaction(versioned=True) as s:
            return s.run(self.queries["finish"], params) == 1

    def release(self, fence: Fence, now: float) -> bool:
        with self.db.transaction(versioned=True) as s:
            row = s.one(self.queries["release"], {**_fence(fence), "now": now})
            if row is not None:
                self._queued(s, [self._task(row)])
        return row is not None

    # --- supervisor side ------------------------------------------------------------------
    def recover(
        self, now: float, *, worker_id: str | None = None, everything: bool = False
    ) -> list[Task]:
        if everything:
            name = "recover_all"
        elif worker_id is not None:
            name = "recover_worker"
        else:
            name = "recover_expired"
        params = {
            "now": now,
            "worker_id": worker_id,
            "cancelled": self.db.json(_CANCELLED),
            "lost": self.db.json(_LOST),
        }
        with self.db.transaction(versioned=True) as s:
            tasks = [self._task(r) for r in s.all(self.queries[name], params)]
            self._queued(s, tasks)
        return tasks

    def overdue_cancels(self, now: float, grace: float) -> list[Task]:
        with self.db.read() as s:
            found = s.all(self.queries["overdue_cancels"], {"before": now - grace})
        return [self._task(r) for r in found]

    def expire_overdue(self, now: float) -> list[Task]:
        params = {"now": now, "error": self.db.json(_EXPIRED)}
        with self.db.transaction(versioned=True) as s:
            found = s.all(self.queries["expire_overdue"], params)
        return [self._task(r) for r in found]

    # --- events -------------------------------------------------------------------------
    def last_event_seq(self) -> int:
        with self.db.read() as s:
            row = s.one(self.queries["last_event_seq"], {})
        return 0 if row is None else int(row["seq"])

    def events_since(
        self, seq: int, limit: int = 1000, *, owner: str | None = None
    ) -> list[Change]:
        name = "events_since" if owner is None else "owner_events_since"
        with self.db.read() as s:
            found = s.all(self.queries[name], {"seq": seq, "limit": limit, "owner": owner})
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
        params = {
            "id": task_id,
            "after_version": after_version,
            "limit": _NO_LIMIT if limit < 0 else limit,
        }
        with self.db.read() as s:
            found = s.all(self.queries["task_history"], params)
        return [rows.as_of(current, r, self.db.load) for r in found]

    def event_at(self, seq: int) -> Task | None:
        with self.db.read() as s:
            event = s.one(self.queries["event"], {"seq": seq})
        if event is None:
            return None
        current = self.get(event["task_id"])
        return None if current is None else rows.as_of(current, event, self.db.load)

    def prune_events(self, before: float, keep_from_seq: int) -> int:
        params = {"before": before, "keep_from_seq": keep_from_seq}
        with self.db.write() as s:
            return s.run(self.queries["prune_events"], params)

    # --- keys ---------------------------------------------------------------------------
    def create_key(self, key_id: str, name: str, secret_hash: str, now: float) -> ApiKey:
        params = {"id": key_id, "name": name, "hash": secret_hash, "now": now}
        with self.db.write() as s:
            s.run(self.queries["insert_key"], params)
        return ApiKey(key_id, name, now)

    def find_key(self, secret_hash: str) -> ApiKey | None:
        with self.db.read() as s:
            row = s.one(self.queries["find_key"], {"hash": secret_hash})
        return None if row is None else _key(row)

    def list_keys(self) -> list[ApiKey]:
        with self.db.read() as s:
            return [_key(r) for r in s.all(self.queries["keys"], {})]

    def revoke_key(self, key_id: str, now: float) -> bool:
        with self.db.write() as s:
            return s.run(self.queries["revoke_key"], {"id": key_id, "now": now}) == 1

    def has_active_keys(self) -> bool:
        with self.db.read() as s:
            return s.one(self.queries["has_active_key"], {}) is not None

    # --- helpers ------------------------------------------------------------------------
    def _task(self, row: rows.Row) -> Task:
        return rows.from_row(row, self.db.load)

    def _queued(self, session: Session, tasks: list[Task]) -> None:
        waiting = [t for t in tasks if t.status is Status.QUEUED]
        if waiting and self.on_queued is not None:
            self.on_queued(session.raw, waiting)


def task_filter(
    queries: sql.Queries, owner: str, query: TaskFilter
) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms (``:name`` style) and parameters of a task query, without its paging."""
    where = ["owner = :owner"]
    params: dict[str, Any] = {"owner": owner}

    def add(term: str, values: dict[str, Any]) -> None:
        where.append(term)
        params.update(values)

    if query.statuses:
        add(*queries.any_of("status", "statuses", [s.value for s in query.statuses]))
    if query.model is not None:
        add("model = :model", {"model": query.model})
    if query.created_after is not None:
        add("created_at >= :created_after", {"created_after": query.created_after})
    if query.created_before is not None:
        add("created_at < :created_before", {"created_before": query.created_before})
    if query.ids:
        add(*queries.any_of("id", "ids", query.ids))
    if query.requested_model is not None:
        add(queries["requested_model_is"], {"requested_model": query.requested_model})
    if query.error_code is not None:
        add(queries["error_code_is"], {"error_code": query.error_code})
    if query.not_error_code is not None:
        add(queries["error_code_is_not"], {"not_error_code": query.not_error_code})
    if query.id_prefix:
        # Each engine's id_starts_with takes what it needs: a range (SQLite) or a pattern.
        upper = _prefix_upper_bound(query.id_prefix)
        bounds = {
            "id_from": query.id_prefix,
            "id_to": _AFTER_ALL_TEXT if upper is None else upper,
            "id_pattern": _like_escape(query.id_prefix) + "%",
        }
        add(queries["id_starts_with"], bounds)
    return where, params


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


def visible(found: rows.Row | None, owner: str | None) -> TypeIs[rows.Row]:
    """Whether the row of `SQLTaskStore.version_sql` is a task ``owner`` (None: anyone) sees."""
    return found is not None and (owner is None or found["owner"] == owner)


def _like_escape(text: str) -> str:
    """``text`` as a literal LIKE pattern (backslash is LIKE's default escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fence(fence: Fence) -> dict[str, Any]:
    return {"id": fence.task_id, "worker_id": fence.worker_id, "attempt": fence.attempt}


def _key(row: rows.Row) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"])


_RECENT_MAX = 10_000
#: LIMIT for "all rows" (SQLite's -1 and PostgreSQL's NULL are not portable).
_NO_LIMIT = 2**63 - 1
#: In SQLite a BLOB sorts after every TEXT: the upper bound of a prefix that has none.
_AFTER_ALL_TEXT = b""
#: The tables besides ``tasks`` whose rows belong to an owner (what ``adopt`` moves).
_OWNED_TABLES = ("task_events", "webhook_endpoints", "webhook_deliveries", "drafts")
_CANCELLED = {"code": "cancelled", "message": "the task was cancelled"}
_LOST = {"code": "worker_lost", "message": "the worker running this task died"}
_EXPIRED = {"code": "expired", "message": "the task did not finish before its deadline"}
