"""Routes for webhook endpoints and the delivery log: ``/v1/webhooks``.

Endpoints are registered per API key with an event filter and get their own signing secret.
A task's own ``webhook_url`` is signed with the key's task-webhook secret
(``GET /v1/webhooks/task-secret``).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from vidtask.core import validation
from vidtask.core.events import WEBHOOK_EVENTS
from vidtask.dialects.timestamps import iso
from vidtask.store.webhooks import Attempt, Delivery, DeliveryFilter, Endpoint
from vidtask.web.body import read_json
from vidtask.web.state import AppState, state

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])

EventName = Literal[
    "task.started", "task.progress", "task.completed", "task.failed", "task.cancelled"
]


class CreateEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="Where to POST events (public http(s)).")
    events: list[EventName] | None = Field(
        None, min_length=1, description="Event types to send; default: all."
    )
    description: str = Field("", max_length=500)


@router.post("/v1/webhooks", status_code=201)
async def create_endpoint(request: Request) -> JSONResponse:
    app = state(request)
    owner = await app.auth.owner(request)
    body = validation.validated(CreateEndpoint, await read_json(request))
    events = body.events or WEBHOOK_EVENTS
    endpoint = await app.hooks.create_endpoint(owner, body.url, events, body.description)
    return JSONResponse(_endpoint_view(endpoint, with_secret=True), status_code=201)


@router.get("/v1/webhooks")
async def list_endpoints(request: Request) -> JSONResponse:
    app = state(request)
    found = await app.hooks.endpoints(await app.auth.owner(request))
    return JSONResponse({"object": "list", "data": [_endpoint_view(e) for e in found]})


@router.get("/v1/webhooks/task-secret")
async def task_secret(request: Request) -> JSONResponse:
    """The secret that signs deliveries to tasks' own ``webhook_url`` for this key."""
    app = state(request)
    return JSONResponse({"secret": app.hooks.task_secret(await app.auth.owner(request))})


@router.get("/v1/webhooks/deliveries")
async def list_deliveries(
    request: Request,
    task_id: str | None = None,
    endpoint_id: str | None = None,
    status: Literal["pending", "delivered", "failed"] | None = None,
    after: str | None = Query(None, description="Cursor: `next_cursor` of the previous page."),
    limit: int = Query(20, ge=1, le=100),
) -> JSONResponse:
    app = state(request)
    query = DeliveryFilter(task_id, endpoint_id, status, after, limit)
    items, has_more = await app.hooks.deliveries(await app.auth.owner(request), query)
    return JSONResponse(
        {
            "object": "list",
            "data": [_delivery_view(d) for d in items],
            "has_more": has_more,
            "next_cursor": items[-1].id if has_more and items else None,
        }
    )


@router.get("/v1/webhooks/deliveries/{delivery_id}")
async def get_delivery(delivery_id: str, request: Request) -> JSONResponse:
    app = state(request)
    delivery, attempts = await app.hooks.delivery(await app.auth.owner(request), delivery_id)
    return JSONResponse(_delivery_view(delivery, attempts))


@router.post("/v1/webhooks/deliveries/{delivery_id}/resend", status_code=202)
async def resend_delivery(delivery_id: str, request: Request) -> JSONResponse:
    app = state(request)
    delivery = await app.hooks.resend(await app.auth.owner(request), delivery_id)
    return JSONResponse(_delivery_view(delivery), status_code=202)


@router.get("/v1/webhooks/{endpoint_id}")
async def get_endpoint(endpoint_id: str, request: Request) -> JSONResponse:
    endpoint = await _endpoint(state(request), request, endpoint_id)
    return JSONResponse(_endpoint_view(endpoint, with_secret=True))


@router.delete("/v1/webhooks/{endpoint_id}")
async def delete_endpoint(endpoint_id: str, request: Request) -> JSONResponse:
    app = state(request)
    await app.hooks.disable(await _endpoint(app, request, endpoint_id))
    return JSONResponse({"id": endpoint_id, "object": "webhook_endpoint.deleted", "deleted": True})


@router.post("/v1/webhooks/{endpoint_id}/test", status_code=202)
async def test_endpoint(endpoint_id: str, request: Request) -> JSONResponse:
    """Queue a ``webhook.test`` event to the endpoint; follow it in the delivery log."""
    app = state(request)
    endpoint = await _endpoint(app, request, endpoint_id)

    def body(now: float) -> dict[str, Any]:
        return {"type": "webhook.test", "timestamp": iso(now), "data": {"endpoint_id": endpoint.id}}

    delivery = await app.hooks.send(endpoint, "webhook.test", body)
    return JSONResponse(_delivery_view(delivery), status_code=202)


async def _endpoint(app: AppState, request: Request, endpoint_id: str) -> Endpoint:
    return await app.hooks.endpoint(await app.auth.owner(request), endpoint_id)


def _endpoint_view(endpoint: Endpoint, *, with_secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "created_at": iso(endpoint.created_at),
    }
    if with_secret:
        view["secret"] = endpoint.secret
    return view


def _delivery_view(delivery: Delivery, attempts: list[Attempt] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": delivery.id,
        "object": "webhook_delivery",
        "event_type": delivery.event_type,
        "url": delivery.url,
        "task_id": delivery.task_id,
        "endpoint_id": delivery.endpoint_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "delivered_at": iso(delivery.delivered_at),
        "payload": json.loads(delivery.payload),
    }
    if attempts is not None:
        view["attempt_log"] = [
            {
                "attempt": a.attempt,
                "at": iso(a.at),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": round(a.duration_ms, 1),
            }
            for a in attempts
        ]
    return view
