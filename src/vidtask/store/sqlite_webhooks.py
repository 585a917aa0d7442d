"""The webhook tables in the embedded SQLite store."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import astuple

from vidtask.store.sqlite import SQLiteStore
from vidtask.store.webhooks import Attempt, Delivery, DeliveryFilter, DeliveryStatus, Endpoint

__all__ = ["SQLiteWebhookStore"]


class SQLiteWebhookStore:
    def __init__(self, db: SQLiteStore) -> None:
        self.db = db

    # --- endpoints ------------------------------------------------------------------------
    def create_endpoint(self, endpoint: Endpoint) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO webhook_endpoints"
                " (id, owner, url, secret, events, description, created_at, disabled_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    endpoint.id,
                    endpoint.owner,
                    endpoint.url,
                    endpoint.secret,
                    json.dumps(list(endpoint.events)),
                    endpoint.description,
                    endpoint.created_at,
                    endpoint.disabled_at,
                ),
            )

    def get_endpoint(self, owner: str, endpoint_id: str) -> Endpoint | None:
        row = (
            self.db.connection()
            .execute(
                "SELECT * FROM webhook_endpoints WHERE id = ? AND owner = ?", (endpoint_id, owner)
            )
            .fetchone()
        )
        return None if row is None else _endpoint(row)

    def list_endpoints(self, owner: str, *, include_disabled: bool = False) -> list[Endpoint]:
        sql = "SELECT * FROM webhook_endpoints WHERE owner = ?"
        if not include_disabled:
            sql += " AND disabled_at IS NULL"
        rows = self.db.connection().execute(sql + " ORDER BY created_at", (owner,))
        return [_endpoint(r) for r in rows]

    def disable_endpoint(self, owner: str, endpoint_id: str, now: float) -> bool:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE webhook_endpoints SET disabled_at = ?"
                " WHERE id = ? AND owner = ? AND disabled_at IS NULL",
                (now, endpoint_id, owner),
            )
        return cur.rowcount == 1

    # --- the outbox -----------------------------------------------------------------------
    def cursor(self, name: str) -> int:
        row = self.db.connection().execute("SELECT seq FROM cursors WHERE name = ?", (name,))
        found = row.fetchone()
        return 0 if found is None else int(found[0])

    def enqueue(
        self, deliveries: list[Delivery], *, cursor: tuple[str, int, int] | None = None
    ) -> bool:
        with self.db.transaction() as conn:
            if cursor is not None and not _move_cursor(conn, *cursor):
                return False
            conn.executemany(
                f"INSERT INTO webhook_deliveries ({_COLUMNS}) VALUES ({_MARKS})",
                [astuple(d) for d in deliveries],
            )
        return True

    def claim_due(self, now: float, limit: int, lock_s: float) -> list[Delivery]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "UPDATE webhook_deliveries SET locked_until = ? WHERE id IN ("
                " SELECT id FROM webhook_deliveries WHERE status = 'pending'"
                " AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)"
                " ORDER BY next_attempt_at LIMIT ?) RETURNING " + _COLUMNS,
                (now + lock_s, now, now, limit),
            ).fetchall()
        return [Delivery(*row) for row in rows]

    def next_due(self) -> float | None:
        row = (
            self.db.connection()
            .execute("SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'")
            .fetchone()
        )
        return None if row[0] is None else float(row[0])

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
                "INSERT OR REPLACE INTO webhook_attempts"
                " (delivery_id, attempt, at, status_code, error, duration_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
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
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
                " locked_until = NULL, delivered_at = COALESCE(?, delivered_at), last_error = ?"
                " WHERE id = ?",
                (status, attempt.attempt, next_attempt_at, delivered_at, error, delivery_id),
            )

    # --- the delivery log -----------------------------------------------------------------
    def get_delivery(self, owner: str, delivery_id: str) -> tuple[Delivery, list[Attempt]] | None:
        conn = self.db.connection()
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE id = ? AND owner = ?",
            (delivery_id, owner),
        ).fetchone()
        if row is None:
            return None
        attempts = conn.execute(
            "SELECT attempt, at, duration_ms, status_code, error FROM webhook_attempts"
            " WHERE delivery_id = ? ORDER BY attempt",
            (delivery_id,),
        )
        return Delivery(*row), [Attempt(*a) for a in attempts]

    def list_deliveries(self, owner: str, query: DeliveryFilter) -> tuple[list[Delivery], bool]:
        where, args = ["owner = ?"], [owner]
        for column in ("task_id", "endpoint_id", "status"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if query.after is not None:
            where.append("rowid < (SELECT rowid FROM webhook_deliveries WHERE id = ?)")
            args.append(query.after)
        rows = (
            self.db.connection()
            .execute(
                f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE {' AND '.join(where)}"
                " ORDER BY rowid DESC LIMIT ?",
                (*args, query.limit + 1),
            )
            .fetchall()
        )
        return [Delivery(*r) for r in rows[: query.limit]], len(rows) > query.limit

    def resend(self, owner: str, delivery_id: str, now: float) -> Delivery | None:
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?,"
                " locked_until = NULL, created_at = ? WHERE id = ? AND owner = ?"
                f" RETURNING {_COLUMNS}",
                (now, now, delivery_id, owner),
            ).fetchone()
        return None if row is None else Delivery(*row)


_COLUMNS = (
    "id, owner, task_id, endpoint_id, url, event_type, payload, status, created_at, attempts,"
    " next_attempt_at, delivered_at, last_error"
)
_MARKS = ", ".join("?" for _ in _COLUMNS.split(","))


def _move_cursor(conn: sqlite3.Connection, name: str, start: int, end: int) -> bool:
    moved = conn.execute(
        "UPDATE cursors SET seq = ? WHERE name = ? AND seq = ?", (end, name, start)
    ).rowcount
    if moved:
        return True
    # A cursor that was never stored reads as 0.
    return (
        start == 0
        and conn.execute(
            "INSERT INTO cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, end),
        ).rowcount
        == 1
    )


def _endpoint(row: sqlite3.Row) -> Endpoint:
    return Endpoint(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        secret=row["secret"],
        events=tuple(json.loads(row["events"])),
        description=row["description"],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )
