"""The status-mapping table: canonical status to every dialect's word, in one place.

Pure data and lookups; every dialect view calls `dialect_status`, never its own table.
"""

from __future__ import annotations

from enum import StrEnum

from vidtask.core.task import Status

__all__ = ["Dialect", "ERROR_NUMBERS", "STATUS_TABLE", "dialect_status", "error_number"]


class Dialect(StrEnum):
    NATIVE = "native"
    NEWAPI = "newapi"  # New API /v1/video/generations (seed 003)
    OPENAI = "openai"  # OpenAI /v1/videos
    ARK = "ark"  # Volcengine Ark tasks (Doubao)
    DOUBAO_MCP = "doubao_mcp"  # Doubao MCP query_video_task (seed 001)
    SCENEXT = "scenext"  # Scenext get_status (seed 002)
    CAPCUT_MATE = "capcut_mate"  # capcut-mate gen_video_status (seed 004)


_Q, _R, _C, _F, _X = (
    Status.QUEUED,
    Status.IN_PROGRESS,
    Status.COMPLETED,
    Status.FAILED,
    Status.CANCELLED,
)

STATUS_TABLE: dict[Dialect, dict[Status, str]] = {
    Dialect.NATIVE: {s: s.value for s in Status},
    Dialect.NEWAPI: {_Q: "queued", _R: "in_progress", _C: "completed", _F: "failed", _X: "failed"},
    Dialect.OPENAI: {_Q: "queued", _R: "in_progress", _C: "completed", _F: "failed", _X: "failed"},
    Dialect.ARK: {_Q: "queued", _R: "running", _C: "succeeded", _F: "failed", _X: "cancelled"},
    Dialect.DOUBAO_MCP: {
        _Q: "pending",
        _R: "processing",
        _C: "success",
        _F: "failed",
        _X: "failed",
    },
    Dialect.SCENEXT: {
        _Q: "IN_PROGRESS",
        _R: "IN_PROGRESS",
        _C: "COMPLETED",
        _F: "FAILED",
        _X: "FAILED",
    },
    Dialect.CAPCUT_MATE: {
        _Q: "pending",
        _R: "processing",
        _C: "completed",
        _F: "failed",
        _X: "failed",
    },
}


def dialect_status(dialect: Dialect, status: Status, error_code: str | None = None) -> str:
    """The word a dialect uses for a status; Ark reports a failed task whose code is ``expired``
    as ``expired``."""
    if dialect is Dialect.ARK and status is Status.FAILED and error_code == "expired":
        return "expired"
    return STATUS_TABLE[dialect][status]


#: Seed 003 types `error.code` as an integer. These numbers follow HTTP where one fits.
ERROR_NUMBERS: dict[str, int] = {
    "invalid_request": 400,
    "unauthorized": 401,
    "not_found": 404,
    "expired": 408,
    "conflict": 409,
    "asset_too_large": 413,
    "unsupported_media": 415,
    "asset_fetch_failed": 424,
    "rate_limited": 429,
    "cancelled": 499,
    "internal_error": 500,
    "render_failed": 500,
    "upstream_error": 502,
    "worker_lost": 503,
    "storage_error": 507,
}


def error_number(code: str) -> int:
    return ERROR_NUMBERS.get(code, 500)
