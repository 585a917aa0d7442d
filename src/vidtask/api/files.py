"""Artifacts at signed, expiring URLs, with HTTP Range support (`vidtask.web.downloads`)."""

from __future__ import annotations

from pathlib import PurePosixPath

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from vidtask.api import derived
from vidtask.core import errors
from vidtask.web import downloads
from vidtask.web.state import state

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
) -> Response:
    app = state(request)
    service = app.service
    if not service.signer.verify(task_id, name, exp, sig, service.clock()):
        raise errors.NotFound("this link is invalid or has expired; fetch the task for a new one")
    artifacts = service.artifacts
    found = downloads.artifact_response(artifacts, task_id, name, request, _media_type)
    if found is None and derived.is_derived(name):
        if await anyio.to_thread.run_sync(derived.materialize, artifacts, task_id, name):
            found = downloads.artifact_response(artifacts, task_id, name, request, _media_type)
    if found is None:
        raise errors.NotFound("this file no longer exists")
    return found


def _media_type(file_name: str) -> str:
    return _MEDIA_TYPES.get(PurePosixPath(file_name).suffix, "application/octet-stream")
