"""Timestamp renderings the dialects use: ISO 8601 UTC strings and unix seconds."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "unix"]


def iso(ts: float | None) -> str | None:
    """``2024-09-24T10:30:00.000Z`` (seed 004's format)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unix(ts: float | None) -> int | None:
    return None if ts is None else int(ts)
