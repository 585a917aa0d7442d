"""Errors are rendered in exactly two places, both here.

The inner handlers turn a `VidtaskError` (or a framework validation/HTTP error) into the
dialect's documented shape, chosen by URL prefix. The outermost handler turns anything else
into ``internal_error`` and never shows a trace to the client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from vidtask.api.dialects import ark, native, newapi, openai, scenext
from vidtask.core import errors, validation

__all__ = ["ErrorView", "error_response", "install"]

log = logging.getLogger(__name__)

ErrorView = Callable[[errors.VidtaskError], tuple[int, dict[str, Any]]]

#: Longest prefix first. Dialects added later register here.
DIALECT_ERRORS: list[tuple[str, ErrorView]] = [
    ("/v1/video/generations", newapi.error_view),
    ("/v1/videos", openai.error_view),
    ("/api/v3/", ark.error_view),
    ("/api/gen_video", scenext.error_view),
    ("/api/get_status", scenext.error_view),
]

_HTTP_ERRORS: dict[int, type[errors.VidtaskError]] = {
    401: errors.Unauthorized,
    404: errors.NotFound,
    405: errors.InvalidRequest,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    429: errors.RateLimited,
}


def error_view_for(path: str) -> ErrorView:
    for prefix, view in DIALECT_ERRORS:
        if path.startswith(prefix):
            return view
    return native.error_view


def error_response(path: str, exc: errors.VidtaskError) -> Response:
    status_code, body = error_view_for(path)(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse(body, status_code=status_code, headers=headers)


def install(app: FastAPI) -> None:
    async def on_vidtask_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.VidtaskError)
        return error_response(request.url.path, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        loc = [p for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        path = validation.field_path(loc) or "body"
        if first.get("type") == "json_invalid":
            problem = errors.InvalidRequest(
                f"malformed JSON body: {first.get('msg')}", param="body"
            )
        else:
            problem = errors.InvalidRequest(f"{path}: {first.get('msg')}", param=path)
        return error_response(request.url.path, problem)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        cls = _HTTP_ERRORS.get(exc.status_code, errors.VidtaskError)
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        problem = cls(detail)
        _, body = error_view_for(request.url.path)(problem)
        return JSONResponse(body, status_code=exc.status_code)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return error_response(request.url.path, errors.VidtaskError("internal error"))

    app.add_exception_handler(errors.VidtaskError, on_vidtask_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_crash)


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a clear 400."""
    raw = await request.body()
    if not raw.strip():
        raise errors.InvalidRequest("the request body is empty; send a JSON object", param="body")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise errors.InvalidRequest(f"malformed JSON body: {exc}", param="body") from exc
