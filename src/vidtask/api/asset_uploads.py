"""``POST /v1/uploads``: a client's local file (an image, video, audio or SRT a timeline names)
stored where the renderer may read it, so a timeline written on one machine renders on another.

Files are content-addressed inputs, ``uploads/<sha256><suffix>``, like the images inside
create requests (`vidtask.web.uploads`): sending the same file twice keeps one copy, and only a
client that has the bytes can name the file. The answer's ``path`` goes in ``src``. They are
kept under the first asset root, or, when artifacts are in a bucket, in the bucket's
``<prefix>/inputs/`` (streamed to a local staging file first, then uploaded in parts), so a
worker on any machine finds them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse

from vidtask.core import errors
from vidtask.web.state import state
from vidtask.web.uploads import keep

__all__ = ["PATH", "router"]

PATH = "/v1/uploads"
router = APIRouter(tags=["uploads"])

_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")
_CHUNK = 1 << 20


@router.post(
    PATH,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def upload(
    request: Request,
    filename: str = Query(
        "", max_length=255, description="The file's name; its suffix (.png, .mp4) is kept."
    ),
) -> JSONResponse:
    """Store the raw request body; answer ``{object, path, bytes, sha256}`` (201). Limited to
    ``VIDTASK_MAX_ASSET_BYTES``."""
    app = state(request)
    await app.auth.owner(request)
    suffix = Path(filename).suffix
    if suffix and not _SUFFIX.fullmatch(suffix):
        raise errors.InvalidRequest(
            f"filename: the suffix {suffix[:20]!r} is not letters and digits", param="filename"
        )
    inputs = app.tasks.inputs
    folder = inputs.staging / "uploads"
    await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
    part = folder / f".{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        async with await anyio.open_file(part, "wb") as out:
            async for chunk in request.stream():
                digest.update(chunk)
                size += len(chunk)
                await out.write(chunk)
        if size == 0:
            raise errors.InvalidRequest("body: the uploaded file is empty", param="body")
        name = digest.hexdigest() + suffix.lower()
        await keep(inputs, part, f"uploads/{name}")
    finally:
        await anyio.to_thread.run_sync(lambda: part.unlink(missing_ok=True))
    body: dict[str, Any] = {
        "object": "upload",
        "path": f"uploads/{name}",
        "bytes": size,
        "sha256": digest.hexdigest(),
    }
    return JSONResponse(body, status_code=201)
