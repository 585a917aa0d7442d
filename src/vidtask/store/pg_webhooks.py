"""The webhook tables in the PostgreSQL store. Several API processes run the outbox at once:
deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` and the relay cursor moves by
compare-and-swap, so each event still becomes exactly one delivery per target."""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from vidtask.store.postgres import PostgresStore
from vidtask.store.rows import Row
from vidtask.store.webhooks import Attempt, Delivery, DeliveryFilter, DeliveryStatus, Endpoint

__all__ = ["PostgresWebhookStore"]


class PostgresWebhookStore:
    def __init__(self, db: PostgresStore) -> None:
        self.db = db

    # --- endpoints ------------------------------------------------------------------------
    def create_endpoint(self, endpoint: Endpoint) -> None:
        with self.db.connection() as conn:
            conn.execute(
                "INSERT INTO webhook_endpoints"
                " (id, owner, url, secret, events, description, created_at, disabled_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    endpoint.id,
                    endpoint.owner,
                    endpoint.url,
                    endpoint.secret,
                    Jsonb(list(endpoint.events)),
                    endpoint.description,
                    endpoint.created_at,
                    endpoint.disabled_at,
                ),
            )

    def get_endpoint(self, owner: str, endpoint_id: str) -> Endpoint | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM webhook_endpoints WHERE id = %s AND owner = %s",
                (endpoint_id, owner),
            ).fetchone()
        return None if row is None else _endpoint(row)

    def list_endpoints(self, owner: str, *, include_disabled: bool = False) -> list[Endpoint]:
        sql = "SELECT * FROM webhook_endpoints WHERE owner = %s"
        if not include_disabled:
            sql += " AND disabled_at IS NULL"
        with self.db.connection() as conn:
            found = conn.execute(sql + " ORDER BY created_at", (owner,)).fetchall()
        return [_endpoint(r) for r in found]

    def disable_endpoint(self, owner: str, endpoint_id: str, now: float) -> bool:
        with self.db.connection() as conn:
            cur = conn.execute(
                "UPDATE webhook_endpoints SET disabled_at = %s"
                " WHERE id = %s AND owner = %s AND disabled_at IS NULL",
                (now, endpoint_id, owner),
            )
        return cur.rowcount == 1

    # --- the outbox -----------------------------------------------------------------------
    def cursor(self, name: str) -> int:
        with self.db.connection() as conn:
            row = conn.execute("SELECT seq FROM cursors WHERE name = %s", (name,)).fetchone()
        return 0 if row is None else int(row["seq"])

    def enqueue(
        self, deliveries: list[Delivery], *, cursor: tuple[str, int, int] | None = None
    ) -> bool:
        with self.db.transaction() as conn:
            if cursor is not None and not _move_cursor(conn, *cursor):
                return False
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO webhook_deliveries ({_COLUMNS}) VALUES ({_MARKS})",
                    [astuple(d) for d in deliveries],
                )
        return True

    def claim_due(self, now: float, limit: int, lock_s: float) -> list[Delivery]:
        with self.db.connection() as conn:
            found = conn.execute(
                "UPDATE webhook_deliveries SET locked_until = %s WHERE id IN ("
                " SELECT id FROM webhook_deliveries WHERE status = 'pending'"
                " AND next_attempt_at <= %s AND (locked_until IS NULL OR locked_until < %s)"
                " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING " + _COLUMNS,
                (now + lock_s, now, now, limit),
            ).fetchall()
        return [_delivery(r) for r in found]

    def next_due(self) -> float | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT MIN(next_attempt_at) AS due FROM webhook_deliveries"
                " WHERE status = 'pending'"
            ).fetchone()
        return None if row is None or row["due"] is None else float(row["due"])

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, *, status: str, next_attempt_at: float | None
    ) -> None:
        delivered_at = attempt.at if status == DeliveryStatus.DELIVERED else None
        error = attempt.error or (
            None
            if attempt.status_code is None or attempt.status_code < 300
            else f"HTTP {attempt.status_code}"
        )
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO webhook_attempts"
                " (delivery_id, attempt, at, status_code, error, duration_ms)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (delivery_id, attempt) DO UPDATE"
                " SET at = excluded.at, status_code = excluded.status_code,"
                " error = excluded.error, duration_ms = excluded.duration_ms",
                (
                    delivery_id,
                    attempt.attempt,
                    attempt.at,
                    attempt.status_code,
                    attempt.error,
                    attempt.duration_ms,
                ),
            )
            conn.execute(
                "UPDATE webhook_deliveries SET status = %s, attempts = %s, next_attempt_at = %s,"
                " locked_until = NULL, delivered_at = COALESCE(%s, delivered_at),"
                " last_error = %s WHERE id = %s",
                (status, attempt.attempt, next_attempt_at, delivered_at, error, delivery_id),
            )

    # --- the delivery log -----------------------------------------------------------------
    def get_delivery(self, owner: str, delivery_id: str) -> tuple[Delivery, list[Attempt]] | None:
        with self.db.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE id = %s AND owner = %s",
                (delivery_id, owner),
            ).fetchone()
            if row is None:
                return None
            attempts = conn.execute(
                "SELECT attempt, at, duration_ms, status_code, error FROM webhook_attempts"
                " WHERE delivery_id = %s ORDER BY attempt",
                (delivery_id,),
            ).fetchall()
        return _delivery(row), [Attempt(**a) for a in attempts]

    def list_deliveries(self, owner: str, query: DeliveryFilter) -> tuple[list[Delivery], bool]:
        where, args = ["owner = %s"], [owner]
        for column in ("task_id", "endpoint_id", "status"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        if query.after is not None:
            where.append("seq < (SELECT seq FROM webhook_deliveries WHERE id = %s)")
            args.append(query.after)
        with self.db.connection() as conn:
            found = conn.execute(
                f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE {' AND '.join(where)}"
                " ORDER BY seq DESC LIMIT %s",
                (*args, query.limit + 1),
            ).fetchall()
        return [_delivery(r) for r in found[: query.limit]], len(found) > query.limit

    def resend(self, owner: str, delivery_id: str, now: float) -> Delivery | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = %s,"
                " locked_until = NULL, created_at = %s WHERE id = %s AND owner = %s"
                f" RETURNING {_COLUMNS}",
                (now, now, delivery_id, owner),
            ).fetchone()
        return None if row is None else _delivery(row)


_COLUMNS = (
    "id, owner, task_id, endpoint_id, url, event_type, payload, status, created_at, attempts,"
    " next_attempt_at, delivered_at, last_error"
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_MARKS = ", ".join("%s" for _ in _NAMES)


def _move_cursor(conn: psycopg.Connection[Any], name: str, start: int, end: int) -> bool:
    moved = conn.execute(
        "UPDATE cursors SET seq = %s WHERE name = %s AND seq = %s", (end, name, start)
    ).rowcount
    if moved:
        return True
    # A cursor that was never stored reads as 0.
    return (
        start == 0
        and conn.execute(
            "INSERT INTO cursors (name, seq) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (name, end),
        ).rowcount
        == 1
    )


def _delivery(row: Row) -> Delivery:
    return Delivery(*(row[name] for name in _NAMES))


def _endpoint(row: Row) -> Endpoint:
    return Endpoint(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        secret=row["secret"],
        events=tuple(row["events"]),
        description=row["description"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )
