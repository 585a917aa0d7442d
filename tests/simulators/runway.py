"""Runway's developer API (Gen-4 / Gen-3 Alpha video), played from its public API reference.

Written from Runway's public documentation:

- Reference: https://docs.dev.runwayml.com/api/ (``POST /v1/text_to_video``: ``model``,
  ``promptText``, ``ratio``, ``duration``, ``seed``; ``POST /v1/image_to_video``: ``model``,
  ``promptImage`` (a URI, or a list of ``{uri, position: first|last}``), ``promptText``,
  ``ratio``, ``duration`` 5 or 10, ``seed`` 0-4294967295; both answer ``{"id"}``;
  ``GET /v1/tasks/{id}``: ``id``, ``status``, ``createdAt``, ``progress`` (0-1),
  ``output`` (URLs), ``failure``, ``failureCode``; ``DELETE /v1/tasks/{id}`` cancels a task
  that has not finished, deletes one that has, and answers 204; ``GET /v1/organization``)
- Versioning: https://docs.dev.runwayml.com/api/#section/Versioning (every request names the
  API version in ``X-Runway-Version``, ``2024-11-06``; without it the request is refused)
- Tasks: https://docs.dev.runwayml.com/api-details/tasks/ (statuses PENDING, THROTTLED,
  RUNNING, SUCCEEDED, FAILED, CANCELLED; output URLs expire, within 24-48 hours)

Errors are ``{"error": "<message>"}`` (a 400 may add ``issues``). What the pages leave open is
listed under "Where the docs are silent" in ``docs/providers.md`` (Runway section).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator, iso_time
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["VERSION", "RunwaySimulator"]

VERSION = "2024-11-06"
_RATIOS = frozenset(
    {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672", "1280:768", "768:1280"}
)
_COMMON = frozenset({"model", "promptText", "ratio", "duration", "seed"})
_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: 400,
    Refusal.UNAUTHORIZED: 401,
    Refusal.QUOTA: 400,  # the reference names no separate status for missing credits
    Refusal.RATE_LIMITED: 429,
    Refusal.SERVER_ERROR: 500,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 400,
}


class RunwaySimulator(Simulator):
    """Runway video tasks: progress as a fraction, cancel by DELETE, expiring output URLs."""

    name = "runway"
    api_root = "/v1"
    words = {
        Phase.QUEUED: "PENDING",
        Phase.RUNNING: "RUNNING",
        Phase.SUCCEEDED: "SUCCEEDED",
        Phase.FAILED: "FAILED",
        Phase.CANCELLED: "CANCELLED",
    }
    unknown_word = "PAUSED"
    url_lifetime_s = 24 * 3600.0

    def routes(self) -> list[BaseRoute]:
        root = self.api_root
        return [
            Route(root + "/text_to_video", self._text_to_video, methods=["POST"]),
            Route(root + "/image_to_video", self._image_to_video, methods=["POST"]),
            Route(root + "/tasks/{task_id}", self._get, methods=["GET"]),
            Route(root + "/tasks/{task_id}", self._delete, methods=["DELETE"]),
            Route(root + "/organization", self._organization, methods=["GET"]),
        ]

    def refuse(
        self,
        refusal: Refusal,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return JSONResponse({"error": message}, status or _STATUS[refusal], dict(headers or {}))

    async def gate(self, request: Request, op: Op) -> str | Response:
        key = await super().gate(request, op)
        if isinstance(key, str) and request.headers.get("x-runway-version") != VERSION:
            return self.refuse(
                Refusal.INVALID, f"The X-Runway-Version header must be set to {VERSION}"
            )
        return key

    def view(self, task: SimTask, word: str) -> JSONObject:
        body: JSONObject = {"id": task.id, "status": word, "createdAt": iso_time(task.created_at)}
        if task.phase is Phase.RUNNING:
            body["progress"] = self.progress(task) / 100
        elif task.phase is Phase.SUCCEEDED:
            body["output"] = [self.file_url(task, "video.mp4")]
        elif task.phase is Phase.FAILED:
            body["failure"] = task.script.error_message or "The video could not be generated"
            body["failureCode"] = str(task.script.error_code or "INTERNAL.BAD_OUTPUT")
        return body

    async def _text_to_video(self, request: Request) -> Response:
        return await self._create(request, image=False)

    async def _image_to_video(self, request: Request) -> Response:
        return await self._create(request, image=True)

    async def _create(self, request: Request, *, image: bool) -> Response:
        accepted = await self.accept_create(request, lambda body: _problem(body, image=image))
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        task = self.new_task(
            task_id=str(uuid.uuid4()),
            key=key,
            prompt=body.get("promptText", ""),
            model=body["model"],
            request=body,
        )
        return await self.created(task, {"id": task.id})

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    async def _delete(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["task_id"])
        if task is None:
            return self.not_found(request.path_params["task_id"])
        if task.phase in (Phase.QUEUED, Phase.RUNNING):
            self.cancel(task)
        else:
            self.forget(task)
        return Response(status_code=204)

    async def _organization(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        return JSONResponse({"creditBalance": 1000, "tier": {"maxMonthlyCreditSpend": 10000}})

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, "Task not found")


def _problem(body: Any, *, image: bool) -> str | None:
    """What the reference contradicts in a create body, or None."""
    if not isinstance(body, dict):
        return "Validation of body failed: the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "Validation of body failed: model is required"
    unknown = sorted(set(body) - _COMMON - ({"promptImage"} if image else set()))
    if unknown:
        return f"Validation of body failed: unrecognized key {unknown[0]}"
    if "ratio" in body and body["ratio"] not in _RATIOS:
        return f"Validation of body failed: ratio must be one of {sorted(_RATIOS)}"
    if "duration" in body and body["duration"] not in (5, 10):
        return "Validation of body failed: duration must be 5 or 10"
    seed = body.get("seed")
    if seed is not None and (type(seed) is not int or not 0 <= seed <= 4294967295):
        return "Validation of body failed: seed must be an integer 0-4294967295"
    if not image:
        if not isinstance(body.get("promptText"), str) or not body["promptText"]:
            return "Validation of body failed: promptText is required"
        return None
    images = body.get("promptImage")
    if isinstance(images, str) and images:
        return None
    if isinstance(images, list) and images:
        for item in images:
            if not isinstance(item, dict) or item.get("position") not in ("first", "last"):
                return "Validation of body failed: promptImage items need a first or last position"
            if not isinstance(item.get("uri"), str) or not item["uri"]:
                return "Validation of body failed: promptImage items need a uri"
        return None
    return "Validation of body failed: promptImage is required"
