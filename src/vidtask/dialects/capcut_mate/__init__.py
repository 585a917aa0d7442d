"""capcut-mate's answers and error bodies (pure): ``{"code": 0, "message": "success", ...}``,
errors as ``{"code": <number>, "message": ...}``, and ``gen_video_status`` exactly as seed 004
(errors there as ``{"error": {"code", "message", "details"}}``).

The drafts themselves (parameters, tracks, the compiler to a timeline, JianYing import) are
`vidtask.capcut`.

This package is pure; its HTTP routes and `Dialect` value are `vidtask.dialects.capcut_mate.routes`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vidtask.core import errors, status
from vidtask.core.task import Links, Status, Task

__all__ = [
    "PREFIX",
    "draft_status_view",
    "error_view",
    "error_view_at",
    "ok",
    "status_error_view",
    "status_view",
]

#: Where capcut-mate's calls are: ``<PREFIX>/<call>``.
PREFIX = "/openapi/capcut-mate/v1"

#: capcut-mate's documented error numbers.
VALIDATION = 1001
INVALID_DRAFT_URL = 2001
INVALID_APIKEY = 2036
INTERNAL = 9998
#: Per endpoint, the "invalid <thing> information" number of capcut-mate's docs.
INVALID_INFO = {
    "add_videos": 2003,
    "add_audios": 2007,
    "add_images": 2009,
    "add_keyframes": 2013,
    "add_captions": 2018,
}


def ok(**fields: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", **fields}


def error_view(exc: errors.VidtaskError, endpoint: str = "") -> tuple[int, dict[str, Any]]:
    """The HTTP status of the canonical error and capcut-mate's body; the message names the
    field and the reason."""
    if isinstance(exc, errors.NotFound) and exc.param in ("draft_url", "draft_id"):
        code = INVALID_DRAFT_URL
    elif isinstance(exc, errors.Unauthorized):
        code = INVALID_APIKEY
    elif isinstance(exc, errors.InvalidRequest):
        info = INVALID_INFO.get(endpoint)
        infos = ("_infos", "captions", "keyframes", "scene_timelines")
        code = info if info and any(p in (exc.param or "") for p in infos) else VALIDATION
    elif exc.http_status >= 500:
        code = INTERNAL
    else:
        code = VALIDATION
    return exc.http_status, {"code": code, "message": exc.message}


def error_view_at(path: str) -> Callable[[errors.VidtaskError], tuple[int, dict[str, Any]]]:
    """The error view of the call at ``path``: ``gen_video_status`` answers as seed 004, the
    others with their own "invalid information" number (`error_view`)."""
    call = path.removeprefix(PREFIX + "/")
    if call.startswith("gen_video_status"):
        return status_error_view
    return functools.partial(error_view, endpoint=call)


def status_error_view(exc: errors.VidtaskError) -> tuple[int, dict[str, Any]]:
    """Seed 004's errors: 400 VALIDATION_ERROR, 404 VIDEO_TASK_NOT_FOUND, 500
    VIDEO_STATUS_QUERY_FAILED (401 for a missing key, in the same body)."""
    if isinstance(exc, errors.NotFound):
        return 404, _seed_error(
            "VIDEO_TASK_NOT_FOUND",
            "视频生成任务未找到",
            exc.message or "指定的草稿URL没有对应的视频生成任务",
        )
    if isinstance(exc, errors.Unauthorized):
        return 401, _seed_error("UNAUTHORIZED", "未授权", exc.message)
    if isinstance(exc, errors.InvalidRequest):
        return 400, _seed_error("VALIDATION_ERROR", "请求参数验证失败", exc.message)
    return 500, _seed_error("VIDEO_STATUS_QUERY_FAILED", "视频任务状态查询失败", "系统内部错误")


def _seed_error(code: str, message: str, details: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def status_view(task: Task, links: Links, draft_url: str) -> dict[str, Any]:
    """``gen_video_status`` (seed 004): the render's real progress while processing; 0 while
    pending or failed and 100 when completed, as the seed's table says."""
    word = status.dialect_status(status.Dialect.CAPCUT_MATE, task.status)
    if task.status is Status.COMPLETED:
        progress = 100
    elif task.status is Status.IN_PROGRESS:
        progress = int(task.progress)
    else:
        progress = 0
    error = task.error or {}
    return {
        "draft_url": draft_url,
        "status": word,
        "progress": progress,
        "video_url": (links.video_url or "") if task.status is Status.COMPLETED else "",
        "error_message": error.get("message", "") if task.terminal else "",
        "created_at": _iso(task.created_at),
        "started_at": _iso(task.started_at),
        "completed_at": _iso(task.completed_at),
    }


def draft_status_view(task: Task, links: Links) -> dict[str, Any] | None:
    """`status_view` of a task rendered from a draft, with the draft_url it was made from (what
    ``gen_video_status`` echoes); None for any other task, which capcut-mate cannot ask about."""
    draft_url = task.external_ref.get("draft_url")
    return status_view(task, links, draft_url) if isinstance(draft_url, str) else None


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
