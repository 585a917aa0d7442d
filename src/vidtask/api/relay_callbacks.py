"""Where providers call back about relayed tasks (Ark's ``callback_url``). The URL is per task
and signed (`vidtask.providers.callbacks`); a valid call only makes the relay poll that task at
once, so a forged, replayed or stale one changes nothing. Its body is never trusted or stored."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.responses import JSONResponse

from vidtask.core import errors
from vidtask.providers import callbacks

__all__ = ["router"]


def router(secret: str, poke: Callable[[str], None]) -> APIRouter:
    routes = APIRouter(tags=["relay"])

    @routes.post(callbacks.PATH + "/{task_id}/{token}", include_in_schema=False)
    async def provider_callback(task_id: str, token: str) -> JSONResponse:
        if not callbacks.valid_token(secret, task_id, token):
            raise errors.NotFound("no such callback", param="token")
        poke(task_id)
        return JSONResponse({})

    return routes
