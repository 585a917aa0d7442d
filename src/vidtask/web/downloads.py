"""One artifact as an HTTP response, from any `ArtifactStore`, with HTTP Range.

A file on this machine goes out as Starlette's ``FileResponse`` (single and multipart ranges,
``If-Range``, ``ETag``). Another store's bytes stream through `ArtifactStore.read_range` and
honour one byte range (``bytes=a-b``, ``a-``, ``-n``); a request for several ranges, or a
malformed one, gets the whole file, as RFC 9110 section 14.2 allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.utils import formatdate
from typing import Literal

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse

from vidtask.storage.base import ArtifactStore

__all__ = ["artifact_response"]

#: One range of a ``Range`` header: ``bytes=<first>-<last>``, either end may be missing.
_ONE_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII | re.IGNORECASE)


def artifact_response(
    artifacts: ArtifactStore,
    task_id: str,
    name: str,
    request: Request,
    media_type: Callable[[str], str],
) -> Response | None:
    """The artifact, or None when it does not exist. ``media_type`` maps a file name to the
    ``Content-Type`` to send."""
    path = artifacts.local_path(task_id, name)
    if path is not None:
        return FileResponse(path, media_type=media_type(path.name))
    info = artifacts.stat(task_id, name)
    if info is None:
        return None
    kind = media_type(name.rpartition("/")[2])
    headers = {"accept-ranges": "bytes", "last-modified": formatdate(info.modified, usegmt=True)}
    wanted = byte_range(request.headers.get("range"), info.size)
    if wanted == "unsatisfiable":
        # As FileResponse answers it.
        return PlainTextResponse(status_code=416, headers={"content-range": f"bytes */{info.size}"})
    if wanted is None:
        headers["content-length"] = str(info.size)
        return StreamingResponse(
            artifacts.read_range(task_id, name), media_type=kind, headers=headers
        )
    start, stop = wanted
    headers["content-range"] = f"bytes {start}-{stop - 1}/{info.size}"
    headers["content-length"] = str(stop - start)
    return StreamingResponse(
        artifacts.read_range(task_id, name, start, stop),
        status_code=206,
        media_type=kind,
        headers=headers,
    )


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
