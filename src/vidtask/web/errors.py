"""Errors are rendered in exactly two places, both built here.

The inner place is a dialect's routes (`route_class`, used by `vidtask.web.dialect.Dialect`):
a `VidtaskError`, a framework validation error or an ``HTTPException`` raised in one of them is
rendered by that dialect's error view. The outer place is the app (`install`): what is refused
before a route runs (an unknown path, a wrong method, a body over the limit), what a route
outside every dialect raises, and anything that crashes, which becomes ``internal_error`` and
never shows a trace. There the error view is the one of the dialect whose URL prefix the path
is under (`ShapeAt`, built from the mounted dialects).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vidtask.core import errors, validation

__all__ = ["ErrorShape", "ErrorView", "ShapeAt", "install", "route_class"]

log = logging.getLogger(__name__)

#: A dialect's error view: a canonical error to the HTTP status and the body.
ErrorView = Callable[[errors.VidtaskError], tuple[int, dict[str, Any]]]

_HTTP_ERRORS: dict[int, type[errors.VidtaskError]] = {
    401: errors.Unauthorized,
    404: errors.NotFound,
    405: errors.InvalidRequest,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    429: errors.RateLimited,
}


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How one dialect answers an error."""

    view: ErrorView
    #: Whether a 401 carries ``WWW-Authenticate: Bearer`` (capcut-mate's answers never did).
    challenge: bool = True

    def response(self, exc: errors.VidtaskError) -> Response:
        status_code, body = self.view(exc)
        challenge = self.challenge and status_code == 401
        headers = {"WWW-Authenticate": "Bearer"} if challenge else None
        return JSONResponse(body, status_code=status_code, headers=headers)

    def invalid(self, exc: RequestValidationError) -> Response:
        """A parameter FastAPI refused, as the canonical `InvalidRequest` naming it."""
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        loc = [p for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        path = validation.field_path(loc) or "body"
        if first.get("type") == "json_invalid":
            problem = errors.InvalidRequest(
                f"malformed JSON body: {first.get('msg')}", param="body"
            )
        else:
            problem = errors.InvalidRequest(f"{path}: {first.get('msg')}", param=path)
        return self.response(problem)

    def refused(self, request: Request, exc: HTTPException) -> Response:
        """Starlette's own refusals (no route, wrong method, a malformed form) keep their
        status; the body is the dialect's."""
        cls = _HTTP_ERRORS.get(exc.status_code, errors.VidtaskError)
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        _, body = self.view(cls(detail))
        return JSONResponse(body, status_code=exc.status_code)


#: The error shape of a URL path: its dialect's, by prefix, else the native one.
ShapeAt = Callable[[str], ErrorShape]

_Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def route_class(shape_at: ShapeAt) -> type[APIRoute]:
    """The route class of a dialect's routes: what they raise is answered in the shape
    ``shape_at`` gives for the route's path (FastAPI's documented custom route class)."""

    class DialectRoute(APIRoute):
        def get_route_handler(self) -> _Handler:
            handler = _request_only(self) or super().get_route_handler()
            shape = shape_at(self.path)

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except errors.VidtaskError as exc:
                    return shape.response(exc)
                except RequestValidationError as exc:
                    return shape.invalid(exc)
                except HTTPException as exc:
                    return shape.refused(request, exc)

            return handle

    return DialectRoute


def _request_only(route: APIRoute) -> _Handler | None:
    """The endpoint itself, when it is a coroutine function taking the request alone and
    returning a `Response`.

    FastAPI's handler would read no body, solve one dependency (the request), call it and pass
    its `Response` through: the same answer, at the cost of a few microseconds that the status
    polls (the hot path, `bench/status_get.py`) feel. Such endpoints read their path parameters
    from ``request.path_params`` and declare them for OpenAPI by hand
    (`vidtask.web.tasks.TASK_ID_PARAM`). What is skipped besides is FastAPI's own OpenTelemetry
    spans around the dependencies and the endpoint, which vidtask never configures."""
    dependant = route.dependant
    takes = (
        dependant.path_params,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
        dependant.dependencies,
        route.dependencies,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.websocket_param_name,
        dependant.http_connection_param_name,
        dependant.security_scopes_param_name,
    )
    if dependant.request_param_name is None or any(takes):
        return None
    if not inspect.iscoroutinefunction(route.endpoint):
        return None
    returns = get_typed_return_annotation(route.endpoint)
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        return None
    endpoint: _Handler = route.endpoint
    return endpoint


def install(app: FastAPI, shape_at: ShapeAt) -> None:
    """The outer place: the app's handlers, by the path's dialect."""

    async def on_vidtask_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.VidtaskError)
        return shape_at(request.url.path).response(exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return shape_at(request.url.path).invalid(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return shape_at(request.url.path).refused(request, exc)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return shape_at(request.url.path).response(errors.VidtaskError("internal error"))

    app.add_exception_handler(errors.VidtaskError, on_vidtask_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_crash)
