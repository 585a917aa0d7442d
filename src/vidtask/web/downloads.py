"""One artifact (`vidtask.service.tasks.Artifact`, from any `ArtifactStore`) as an HTTP
response, with HTTP Range.

A file on this machine goes out as Starlette's ``FileResponse`` (single and multipart ranges,
``If-Range``, ``ETag``). Another store's bytes stream through the artifact's ``read_range`` and
honour one byte range (``bytes=a-b``, ``a-``, ``-n``); a request for several ranges, or a
malformed one, gets the whole file, as RFC 9110 section 14.2 allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Literal

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse

from vidtask.core import errors
from vidtask.service.tasks import Artifact

__all__ = ["artifact_response"]

#: One range of a ``Range`` header: ``bytes=<first>-<last>``, either end may be missing.
_ONE_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII | re.IGNORECASE)


async def artifact_response(
    artifact: Artifact, name: str, request: Request, media_type: Callable[[str], str]
) -> Response:
    """The artifact called ``name``; ``media_type`` maps a file name to the ``Content-Type``
    to send."""
    if artifact.path is not None:
        return FileResponse(artifact.path, media_type=media_type(artifact.path.name))
    info = artifact.info
    assert info is not None  # an artifact is a local file or has its size and time
    kind = media_type(name.rpartition("/")[2])
    headers = {"accept-ranges": "bytes", "last-modified": formatdate(info.modified, usegmt=True)}
    wanted = byte_range(request.headers.get("range"), info.size)
    if wanted == "unsatisfiable":
        # As FileResponse answers it.
        return PlainTextResponse(status_code=416, headers={"content-range": f"bytes */{info.size}"})
    if wanted is None:
        headers["content-length"] = str(info.size)
        return StreamingResponse(await _opened(artifact, 0, None), media_type=kind, headers=headers)
    start, stop = wanted
    headers["content-range"] = f"bytes {start}-{stop - 1}/{info.size}"
    headers["content-length"] = str(stop - start)
    return StreamingResponse(
        await _opened(artifact, start, stop),
        status_code=206,
        media_type=kind,
        headers=headers,
    )


async def _opened(artifact: Artifact, start: int, stop: int | None) -> Iterator[bytes]:
    """The bytes, opened off the event loop (a bucket's GET is a round trip; Starlette then
    reads the chunks in its thread pool); a file deleted since its ``stat`` is a 404."""
    try:
        return await anyio.to_thread.run_sync(artifact.read_range, start, stop)
    except FileNotFoundError:
        raise errors.NotFound("this file no longer exists") from None


def byte_range(header: str | None, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """``(start, stop)`` of the one range ``header`` asks for, clipped to ``size``; None for
    the whole file (no header, several ranges, or one we ignore as malformed)."""
    found = None if header is None else _ONE_RANGE.fullmatch(header)
    if found is None:
        return None
    first, last = found.group(1), found.group(2)
    if not first:  # a suffix: the last ``last`` bytes
        if not last:
            return None
        count = int(last)
        if count == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - count), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, size if not last else min(int(last) + 1, size)
