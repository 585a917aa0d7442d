"""Task rows: the mapping between ``Task`` and the ``tasks`` / ``task_events`` columns, shared by
the SQLite and PostgreSQL stores (they differ only in how a JSON column is written and read)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from vidtask.core.task import Status, Task

__all__ = ["JSON_COLUMNS", "as_of", "from_row", "to_row"]

JSON_COLUMNS = ("input", "previews", "result", "error", "external_ref")


class Row(Protocol):
    """A result row addressable by column name (``sqlite3.Row``, psycopg's ``dict_row``)."""

    def __getitem__(self, column: str, /) -> Any: ...


Dump = Callable[[Any], Any]
Load = Callable[[Any], Any]


def to_row(task: Task, dump: Dump) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": task.id,
        "owner": task.owner,
        "model": task.model,
        "status": task.status.value,
        "stage": task.stage,
        "progress": task.progress,
        "priority": task.priority,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "started_at": task.started_at,
        "completed_at": task.completed_at,
        "attempt": task.attempt,
        "max_attempts": task.max_attempts,
        "lease_owner": task.lease_owner,
        "lease_expires_at": task.lease_expires_at,
        "cancel_requested": task.cancel_requested,
        "idempotency_key": task.idempotency_key,
        "request_hash": task.request_hash,
        "webhook_url": task.webhook_url,
        "webhook_format": task.webhook_format,
        "expires_at": task.expires_at,
        "version": task.version,
    }
    for column in JSON_COLUMNS:
        value = getattr(task, column)
        row[column] = None if value is None else dump(value)
    return row


def from_row(row: Row, load: Load) -> Task:
    def json_column(column: str) -> Any:
        raw = row[column]
        return None if raw is None else load(raw)

    return Task(
        id=row["id"],
        owner=row["owner"],
        model=row["model"],
        input=json_column("input"),
        status=Status(row["status"]),
        stage=row["stage"],
        progress=row["progress"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        priority=row["priority"],
        previews=json_column("previews") or [],
        result=json_column("result"),
        error=json_column("error"),
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        attempt=row["attempt"],
        max_attempts=row["max_attempts"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        cancel_requested=bool(row["cancel_requested"]),
        idempotency_key=row["idempotency_key"],
        request_hash=row["request_hash"],
        webhook_url=row["webhook_url"],
        webhook_format=row["webhook_format"],
        external_ref=json_column("external_ref") or {},
        expires_at=row["expires_at"],
    )


def as_of(current: Task, event: Row, load: Load) -> Task:
    """The task as it was at one event (only the fields an event records can differ)."""

    def json_column(column: str) -> Any:
        raw = event[column]
        return None if raw is None else load(raw)

    return replace(
        current,
        version=event["version"],
        status=Status(event["status"]),
        stage=event["stage"],
        progress=event["progress"],
        attempt=event["attempt"],
        previews=json_column("previews") or [],
        result=json_column("result"),
        error=json_column("error"),
        started_at=event["started_at"],
        completed_at=event["completed_at"],
        updated_at=event["updated_at"],
        cancel_requested=bool(event["cancel_requested"]),
    )
