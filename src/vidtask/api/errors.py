"""Errors are rendered in exactly two places, both here.

The inner handlers turn a `VidtaskError` (or a framework validation/HTTP error) into the
dialect's documented shape, chosen by URL prefix. The outermost handler turns anything else
into ``internal_error`` and never shows a trace to the client.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from vidtask.core import errors, validation
from vidtask.dialects import ark, native, newapi, openai, scenext

__all__ = ["ErrorView", "MAX_JSON_DEPTH", "error_response", "install", "read_json"]

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


#: The deepest nesting of arrays and objects a JSON body may have. Python's parser recurses, so
#: a body nested a thousand deep would end in RecursionError (a 500, and a dropped connection).
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
#: What may hide a lone surrogate or a non-finite number; only then is the parsed body walked.
_SUSPECT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]|NaN|Infinity|\d[eE]\+?\d{3}|\d{300}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a clear 400: not empty, well-formed, nested at most
    `MAX_JSON_DEPTH` deep, with no lone UTF-16 surrogate in a string (nothing downstream can
    encode one) and no NaN or Infinity."""
    raw = await request.body()
    if not raw.strip():
        raise errors.InvalidRequest("the request body is empty; send a JSON object", param="body")
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")  # as json.loads does
        if _too_deep(text):
            raise errors.InvalidRequest(
                f"body: arrays and objects are nested more than {MAX_JSON_DEPTH} deep",
                param="body",
            )
        value = json.loads(text)
    except ValueError as exc:
        raise errors.InvalidRequest(f"malformed JSON body: {exc}", param="body") from exc
    if _SUSPECT.search(text):
        _check_values(value)
    return value


def _too_deep(text: str) -> bool:
    """Whether the arrays and objects in ``text`` nest deeper than `MAX_JSON_DEPTH`, counted
    without parsing (so without recursion), brackets inside strings left out."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth += 1 if char in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def _check_values(value: Any) -> None:
    """Refuse the first lone surrogate or non-finite number, naming its JSON path."""
    unicode = "contains a lone UTF-16 surrogate (\\ud800-\\udfff); send valid Unicode"
    stack: list[tuple[list[int | str], Any]] = [([], value)]
    while stack:
        loc, item = stack.pop()
        if isinstance(item, dict):
            if any(_SURROGATE.search(key) for key in item):
                raise _invalid(loc, "an object key " + unicode)
            stack.extend(([*loc, key], child) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(([*loc, n], child) for n, child in reversed(list(enumerate(item))))
        elif isinstance(item, str) and _SURROGATE.search(item):
            raise _invalid(loc, unicode)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _invalid(loc, f"must be a finite number, not {validation.non_finite(item)}")


def _invalid(loc: list[int | str], why: str) -> errors.InvalidRequest:
    path = validation.field_path(loc) or "body"
    return errors.InvalidRequest(f"{path}: {why}", param=path)
