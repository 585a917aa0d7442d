"""Artifacts at signed, expiring URLs, with HTTP Range support (Starlette's FileResponse)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse

from vidtask.api import derived
from vidtask.api.state import state
from vidtask.core import errors

__all__ = ["router"]

router = APIRouter(tags=["artifacts"])

_MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


@router.get("/v1/files/{task_id}/{name:path}")
async def get_file(
    task_id: str, name: str, request: Request, exp: int = Query(...), sig: str = Query(...)
) -> FileResponse:
    app = state(request)
    service = app.service
    if not service.signer.verify(task_id, name, exp, sig, service.clock()):
        raise errors.NotFound("this link is invalid or has expired; fetch the task for a new one")
    path = service.artifacts.path(task_id, name)
    if path is None and derived.is_derived(name):
        path = await anyio.to_thread.run_sync(derived.materialize, service.artifacts, task_id, name)
    if path is None:
        raise errors.NotFound("this file no longer exists")
    return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix, "application/octet-stream"))
