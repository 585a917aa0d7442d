"""Routes of the relay engine: where providers call back about relayed tasks (Ark's
``callback_url``), and what the providers look like now (``GET /v1/providers``).

A callback URL is per task and signed (`vidtask.providers.callbacks`); a valid call only makes
the relay poll that task at once, so a forged, replayed or stale one changes nothing. Its body
is never trusted or stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from vidtask.core import errors
from vidtask.providers import callbacks
from vidtask.web.state import state

__all__ = ["router"]


def router(
    secret: str,
    poke: Callable[[str], None],
    providers: Callable[[], list[dict[str, Any]]],
) -> APIRouter:
    routes = APIRouter(tags=["relay"])

    @routes.post(callbacks.PATH + "/{task_id}/{token}", include_in_schema=False)
    async def provider_callback(task_id: str, token: str) -> JSONResponse:
        if not callbacks.valid_token(secret, task_id, token):
            raise errors.NotFound("no such callback", param="token")
        poke(task_id)
        return JSONResponse({})

    @routes.get("/v1/providers")
    async def list_providers(request: Request) -> JSONResponse:
        """The configured providers, their models, tasks in flight and parked keys (named by
        their environment variable). In the cluster mode the workers follow the tasks, so
        ``in_flight`` and ``parked_keys`` are null here."""
        await state(request).auth.owner(request)
        return JSONResponse({"object": "list", "data": providers()})

    return routes
