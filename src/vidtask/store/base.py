"""The `TaskStore` protocol: the only way any part of vidtask reads or writes tasks and keys.

Worker writes are *fenced*: they carry ``(task_id, worker_id, attempt)`` and change nothing
unless that worker still holds that attempt's lease. A stale or duplicate worker is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from vidtask.core.task import Status, Task

__all__ = ["ApiKey", "AsyncTaskReads", "Change", "Fence", "Page", "TaskFilter", "TaskStore"]


@dataclass(frozen=True, slots=True)
class Fence:
    task_id: str
    worker_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class TaskFilter:
    statuses: tuple[Status, ...] = ()
    model: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    #: Cursor: the id of the last task of the previous page.
    after: str | None = None
    limit: int = 20
    order: str = "desc"
    #: Rows to skip (page-number paging, e.g. Ark's ``page_num``).
    offset: int = 0
    #: Only these task ids.
    ids: tuple[str, ...] = ()
    #: The model name the client asked for (e.g. the alias ``sora-2``), else the local model.
    requested_model: str | None = None
    #: Only tasks whose error has this code / tasks whose error (if any) has another code.
    error_code: str | None = None
    not_error_code: str | None = None
    #: Only tasks whose id starts with this (case-sensitive; ``%`` and ``_`` are literal).
    id_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Task]
    has_more: bool
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    created_at: float
    revoked_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the task event log: task ``task_id`` reached ``version``."""

    seq: int
    task_id: str
    owner: str
    model: str
    version: int
    status: Status


class AsyncTaskReads(Protocol):
    """A store's `TaskStore.get` awaited on the event loop, over connections of that loop (what
    a networked engine offers the status GET, the hot path). Usable between `open` and
    `close`, both awaited on the loop that serves."""

    @property
    def is_open(self) -> bool: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def get(self, task_id: str, owner: str | None = None) -> Task | None: ...


class TaskStore(Protocol):
    # --- API side ---------------------------------------------------------------------
    def create(self, task: Task) -> tuple[Task, bool]:
        """Insert; if (owner, idempotency_key) exists return that task and False."""
        ...

    def get(self, task_id: str, owner: str | None = None) -> Task | None: ...

    def get_by_idempotency_key(self, owner: str, key: str) -> Task | None: ...

    def list_tasks(self, owner: str, query: TaskFilter) -> Page: ...

    def count_tasks(self, owner: str, query: TaskFilter) -> int:
        """How many tasks match ``query``, ignoring its paging (after, offset, limit)."""
        ...

    def request_cancel(self, task_id: str, owner: str, now: float) -> Task | None:
        """Queued: cancelled at once. Running: flag it for the worker. Terminal: unchanged."""
        ...

    def delete(self, task_id: str, owner: str) -> bool:
        """Delete a terminal task. False when it is not terminal."""
        ...

    def counts(self) -> dict[str, int]:
        """Number of tasks per status, for metrics."""
        ...

    def count_owned(self, owner: str) -> int:
        """How many tasks ``owner`` has, in any status."""
        ...

    def adopt(self, from_owner: str, to_owner: str) -> int:
        """Give everything ``from_owner`` owns to ``to_owner`` in one transaction: its tasks,
        their event-log rows, its webhook endpoints and deliveries and its drafts. Returns the
        number of tasks moved (0 when the two are the same owner).

        Task versions are unchanged, so no task event is written and no webhook fires.
        Idempotency keys are unique per owner: a moved task whose key ``to_owner`` already uses
        loses its key (it is cleared, and a retry with that key finds ``to_owner``'s task)
        instead of failing the whole adoption."""
        ...

    # --- worker side (fenced) -----------------------------------------------------------
    def claim(
        self, worker_id: str, models: tuple[str, ...], now: float, lease_ttl: float
    ) -> Task | None:
        """Take the highest-priority, oldest queued task of these models and lease it."""
        ...

    def heartbeat(self, fence: Fence, now: float, lease_ttl: float) -> Task | None:
        """Extend the lease. None when the lease is no longer ours (stop working)."""
        ...

    def renew_leases(self, worker_id: str, now: float, lease_ttl: float) -> set[str]:
        """Extend every lease ``worker_id`` holds; the ids of its leased tasks (one that is
        missing is no longer its own)."""
        ...

    def cancels_requested(self, worker_id: str) -> set[str]:
        """The ids of the tasks ``worker_id`` holds whose cancel was requested."""
        ...

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
        """Record stage/progress (progress never decreases) and extend the lease."""
        ...

    def checkpoint(self, fence: Fence, now: float, ref: dict[str, Any]) -> bool:
        """Merge ``ref`` into ``external_ref["checkpoint"]`` (its keys replace those of an
        earlier checkpoint; the rest of ``external_ref`` is kept) and bump the version. The
        lease is not extended. False when the lease is no longer ours."""
        ...

    def finish(
        self,
        fence: Fence,
        now: float,
        status: Status,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        """Write the terminal status once (compare-and-swap). False if it lost the race."""
        ...

    def release(self, fence: Fence, now: float) -> bool:
        """Hand a task back to the queue without using up its attempt (graceful shutdown).
        False when it is not ours or its cancel was requested."""
        ...

    # --- supervisor side ----------------------------------------------------------------
    def recover(
        self, now: float, *, worker_id: str | None = None, everything: bool = False
    ) -> list[Task]:
        """Tasks whose worker is gone: requeue while attempts remain, else fail with
        ``worker_lost``; a task whose cancel was requested becomes ``cancelled``.
        Selects by ``worker_id``, or every ``in_progress`` task (``everything``), or expired
        leases."""
        ...

    def overdue_cancels(self, now: float, grace: float) -> list[Task]:
        """Running tasks whose cancel was requested more than ``grace`` seconds ago."""
        ...

    def expire_overdue(self, now: float) -> list[Task]:
        """Fail every queued or running task past its ``expires_at`` with ``expired``. A running
        task's lease goes with it, so its worker stops and its late writes change nothing."""
        ...

    # --- events (every task version, in commit order) -------------------------------------
    def last_event_seq(self) -> int: ...

    def events_since(
        self, seq: int, limit: int = 1000, *, owner: str | None = None
    ) -> list[Change]: ...

    def task_history(
        self, task_id: str, owner: str, after_version: int, limit: int = -1
    ) -> list[Task]:
        """The task as of each recorded version after ``after_version``, oldest first
        (at most ``limit``; -1: all)."""
        ...

    def event_at(self, seq: int) -> Task | None:
        """The task as of one event."""
        ...

    def prune_events(self, before: float, keep_from_seq: int) -> int:
        """Forget events older than ``before``, but none at or after ``keep_from_seq``."""
        ...

    # --- keys ---------------------------------------------------------------------------
    def create_key(self, key_id: str, name: str, secret_hash: str, now: float) -> ApiKey: ...

    def find_key(self, secret_hash: str) -> ApiKey | None: ...

    def list_keys(self) -> list[ApiKey]: ...

    def revoke_key(self, key_id: str, now: float) -> bool: ...

    def has_active_keys(self) -> bool: ...

    def close(self) -> None: ...
