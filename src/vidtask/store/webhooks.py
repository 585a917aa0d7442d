"""Webhook endpoints and the delivery outbox: the records, the protocol a store keeps them by, and
its one implementation (`SQLWebhookStore`, the statements of `store/sql` on the task store's
connector).

A *delivery* is one logical message to one URL; its id is the ``webhook-id`` header, the same on
every attempt, so receivers can drop duplicates. Deliveries are written in the same transaction
that moves the relay's cursor over the task events they come from: none is lost or doubled by
a crash.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

from vidtask.store.rows import Row

if TYPE_CHECKING:
    from vidtask.store.connector import Connector
    from vidtask.store.tasks import SQLTaskStore

__all__ = [
    "Attempt",
    "Delivery",
    "DeliveryFilter",
    "DeliveryStatus",
    "Endpoint",
    "SQLWebhookStore",
    "WebhookStore",
]


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    owner: str
    url: str
    secret: str
    events: tuple[str, ...]
    description: str
    created_at: float
    disabled_at: float | None = None


class DeliveryStatus:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    owner: str
    task_id: str | None
    #: None for a task's own ``webhook_url`` (signed with the key's task-webhook secret).
    endpoint_id: str | None
    url: str
    event_type: str
    payload: str
    status: str
    created_at: float
    attempts: int = 0
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt: int
    at: float
    duration_ms: float
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    task_id: str | None = None
    endpoint_id: str | None = None
    status: str | None = None
    #: Cursor: the id of the last delivery of the previous page.
    after: str | None = None
    limit: int = 20


class WebhookStore(Protocol):
    def create_endpoint(self, endpoint: Endpoint) -> None: ...

    def get_endpoint(self, owner: str, endpoint_id: str) -> Endpoint | None: ...

    def list_endpoints(self, owner: str, *, include_disabled: bool = False) -> list[Endpoint]: ...

    def disable_endpoint(self, owner: str, endpoint_id: str, now: float) -> bool: ...

    def cursor(self, name: str) -> int: ...

    def enqueue(
        self, deliveries: list[Delivery], *, cursor: tuple[str, int, int] | None = None
    ) -> bool:
        """Insert deliveries and, atomically, move relay cursor ``(name, from_seq, to_seq)``.
        False (nothing written) when the cursor was no longer at ``from_seq``: another relay
        (in another API process) got there first."""
        ...

    def claim_due(self, now: float, limit: int, lock_s: float) -> list[Delivery]:
        """Pending deliveries whose time has come, locked for ``lock_s`` seconds."""
        ...

    def next_due(self) -> float | None:
        """When the earliest pending delivery is due."""
        ...

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, *, status: str, next_attempt_at: float | None
    ) -> None: ...

    def get_delivery(
        self, owner: str, delivery_id: str
    ) -> tuple[Delivery, list[Attempt]] | None: ...

    def list_deliveries(self, owner: str, query: DeliveryFilter) -> tuple[list[Delivery], bool]:
        """A page of deliveries, newest first, and whether more exist."""
        ...

    def resend(self, owner: str, delivery_id: str, now: float) -> Delivery | None:
        """Make a delivery pending again, due now."""
        ...


class SQLWebhookStore:
    """The webhook tables beside a task store, on its connector (SQLite or PostgreSQL).

    Several API processes may run the outbox at once on PostgreSQL: deliveries are claimed
    with ``FOR UPDATE SKIP LOCKED`` and the relay cursor moves by compare-and-swap, so each
    event still becomes exactly one delivery per target."""

    def __init__(self, store: SQLTaskStore[Any]) -> None:
        self.db: Connector = store.db
        self.queries = store.db.queries

    # --- endpoints ------------------------------------------------------------------------
    def create_endpoint(self, endpoint: Endpoint) -> None:
        params = {
            "id": endpoint.id,
            "owner": endpoint.owner,
            "url": endpoint.url,
            "secret": endpoint.secret,
            "events": self.db.json(list(endpoint.events)),
            "description": endpoint.description,
            "created_at": endpoint.created_at,
            "disabled_at": endpoint.disabled_at,
        }
        with self.db.write() as s:
            s.run(self.queries["insert_endpoint"], params)

    def get_endpoint(self, owner: str, endpoint_id: str) -> Endpoint | None:
        with self.db.read() as s:
            row = s.one(self.queries["endpoint"], {"id": endpoint_id, "owner": owner})
        return None if row is None else self._endpoint(row)

    def list_endpoints(self, owner: str, *, include_disabled: bool = False) -> list[Endpoint]:
        params = {"owner": owner, "include_disabled": include_disabled}
        with self.db.read() as s:
            return [self._endpoint(r) for r in s.all(self.queries["endpoints"], params)]

    def disable_endpoint(self, owner: str, endpoint_id: str, now: float) -> bool:
        params = {"id": endpoint_id, "owner": owner, "now": now}
        with self.db.write() as s:
            return s.run(self.queries["disable_endpoint"], params) == 1

    # --- the outbox -----------------------------------------------------------------------
    def cursor(self, name: str) -> int:
        with self.db.read() as s:
            row = s.one(self.queries["cursor"], {"name": name})
        return 0 if row is None else int(row["seq"])

    def enqueue(
        self, deliveries: list[Delivery], *, cursor: tuple[str, int, int] | None = None
    ) -> bool:
        q = self.queries
        with self.db.transaction() as s:
            if cursor is not None:
                name, start, end = cursor
                moved = {"name": name, "start": start, "end": end}
                # A cursor that was never stored reads as 0: the first move inserts it.
                if not s.run(q["move_cursor"], moved) and not (
                    start == 0 and s.run(q["insert_cursor"], moved) == 1
                ):
                    return False
            s.run_many(q["insert_delivery"], [asdict(d) for d in deliveries])
        return True

    def claim_due(self, now: float, limit: int, lock_s: float) -> list[Delivery]:
        params = {"now": now, "limit": limit, "locked_until": now + lock_s}
        with self.db.write() as s:
            return [_delivery(r) for r in s.all(self.queries["claim_due"], params)]

    def next_due(self) -> float | None:
        with self.db.read() as s:
            row = s.one(self.queries["next_due"], {})
        return None if row is None or row["due"] is None else float(row["due"])

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, *, status: str, next_attempt_at: float | None
    ) -> None:
        error = attempt.error or (
            None
            if attempt.status_code is None or attempt.status_code < 300
            else f"HTTP {attempt.status_code}"
        )
        attempted = {
            "id": delivery_id,
            "status": status,
            "attempt": attempt.attempt,
            "next_attempt_at": next_attempt_at,
            "delivered_at": attempt.at if status == DeliveryStatus.DELIVERED else None,
            "last_error": error,
        }
        with self.db.transaction() as s:
            s.run(self.queries["upsert_attempt"], {"delivery_id": delivery_id, **asdict(attempt)})
            s.run(self.queries["attempted"], attempted)

    # --- the delivery log -----------------------------------------------------------------
    def get_delivery(self, owner: str, delivery_id: str) -> tuple[Delivery, list[Attempt]] | None:
        with self.db.read() as s:
            row = s.one(self.queries["delivery"], {"id": delivery_id, "owner": owner})
            if row is None:
                return None
            attempts = s.all(self.queries["attempts"], {"id": delivery_id})
        return _delivery(row), [_attempt(a) for a in attempts]

    def list_deliveries(self, owner: str, query: DeliveryFilter) -> tuple[list[Delivery], bool]:
        q = self.queries
        where = ["owner = :owner"]
        params: dict[str, Any] = {"owner": owner, "limit": query.limit + 1}
        for column in ("task_id", "endpoint_id", "status"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = :{column}")
                params[column] = value
        if query.after is not None:
            order = q["delivery_seq"]
            where.append(f"{order} < (SELECT {order} FROM webhook_deliveries WHERE id = :after)")
            params["after"] = query.after
        statement = (
            f"SELECT {q['delivery_columns']} FROM webhook_deliveries WHERE {' AND '.join(where)}"
            f" ORDER BY {q['delivery_seq']} DESC LIMIT :limit"
        )
        with self.db.read() as s:
            found = s.all(statement, params)
        return [_delivery(r) for r in found[: query.limit]], len(found) > query.limit

    def resend(self, owner: str, delivery_id: str, now: float) -> Delivery | None:
        params = {"id": delivery_id, "owner": owner, "now": now}
        with self.db.write() as s:
            row = s.one(self.queries["resend"], params)
        return None if row is None else _delivery(row)

    def _endpoint(self, row: Row) -> Endpoint:
        return Endpoint(
            id=row["id"],
            owner=row["owner"],
            url=row["url"],
            secret=row["secret"],
            events=tuple(self.db.load(row["events"])),
            description=row["description"],
            created_at=row["created_at"],
            disabled_at=row["disabled_at"],
        )


_DELIVERY_FIELDS = tuple(f.name for f in fields(Delivery))
_ATTEMPT_FIELDS = tuple(f.name for f in fields(Attempt))


def _delivery(row: Row) -> Delivery:
    return Delivery(*(row[name] for name in _DELIVERY_FIELDS))


def _attempt(row: Row) -> Attempt:
    return Attempt(*(row[name] for name in _ATTEMPT_FIELDS))
