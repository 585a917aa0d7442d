"""Result bytes on the wire: chunked, optionally one byte range, optionally cut short.

Truncation is the fault a download must survive: the response announces the full
Content-Length, sends half, and ends unfinished, so uvicorn closes the connection and the client
sees a body shorter than announced.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["body"]


def body(
    request: Request, data: bytes, media_type: str, *, truncate: bool, ranges: bool
) -> Response:
    """``data`` as the response to ``request``; with ``ranges``, a single ``Range: bytes=`` is
    honoured (206, or 416 when unsatisfiable)."""
    size = len(data)
    wanted = _byte_range(request.headers.get("range"), size) if ranges else None
    if wanted is None:
        headers = {"Accept-Ranges": "bytes"} if ranges else {}
        return _Body(memoryview(data), media_type, headers=headers, truncate=truncate)
    if wanted == (0, 0):
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = wanted
    headers = {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end - 1}/{size}"}
    part = memoryview(data)[start:end]
    return _Body(part, media_type, status_code=206, headers=headers, truncate=truncate)


class _Body(Response):
    """Bytes sent in 64 KiB chunks; ``truncate`` sends half of them under the full
    Content-Length and ends the response unfinished, so the server closes the connection."""

    chunk = 64 * 1024

    def __init__(
        self,
        content: memoryview,
        media_type: str,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        self.data = content
        self.truncate = truncate
        super().__init__(b"", status_code, dict(headers or {}), media_type)
        self.headers["content-length"] = str(len(content))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        limit = len(self.data) // 2 if self.truncate else len(self.data)
        for offset in range(0, limit, self.chunk):
            piece = bytes(self.data[offset : min(offset + self.chunk, limit)])
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        if self.truncate:
            return  # short of Content-Length: uvicorn closes the connection
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as (start, end exclusive); None: serve it all; (0, 0): 416."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if first:
            start = int(first)
            end = int(last) + 1 if last else size
        else:
            start, end = max(0, size - int(last)), size
    except ValueError:
        return None
    if start >= size or start >= end:
        return (0, 0)
    return (start, min(end, size))
