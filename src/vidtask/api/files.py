"""Artifacts at signed, expiring URLs, with HTTP Range support (`vidtask.web.downloads`)."""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

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
    artifact = await state(request).tasks.signed_file(task_id, name, exp, sig)
    return await downloads.artifact_response(artifact, name, request, _media_type)


def _media_type(file_name: str) -> str:
    return _MEDIA_TYPES.get(PurePosixPath(file_name).suffix, "application/octet-stream")
