"""Webhook endpoints and the delivery outbox: the records, and the protocol a store keeps them by.

A *delivery* is one logical message to one URL; its id is the ``webhook-id`` header, the same on
every attempt, so receivers can drop duplicates. Deliveries are written in the same transaction
that moves the relay's cursor over the task events they come from: none is lost or doubled by
a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Attempt",
    "Delivery",
    "DeliveryFilter",
    "DeliveryStatus",
    "Endpoint",
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
