"""Pure ASGI middleware refusing bodies over the limit with 413 (by header and while streaming)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vidtask.core import errors
from vidtask.web.errors import ShapeAt

__all__ = ["BodyLimit"]


class BodyLimit:
    """``max_bytes`` for every body, except under the paths of ``larger`` (path prefix to limit),
    e.g. file uploads; a refusal is in the shape of the path's dialect (``shape_at``)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        shape_at: ShapeAt,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.shape_at = shape_at
        self.larger = dict(larger or {})

    def _limit(self, path: str) -> int:
        return next((n for p, n in self.larger.items() if path.startswith(p)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        too_large = errors.PayloadTooLarge(
            f"the request body is larger than {limit} bytes", param="body"
        )
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self.shape_at(scope["path"]).response(too_large)(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large
            return message

        await self.app(scope, limited_receive, send)
