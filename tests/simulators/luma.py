"""Luma AI's Dream Machine API (Ray video models), played from its public documentation.

Written from Luma's public documentation and SDK:

- Guide: https://docs.lumalabs.ai/docs/video-generation and https://docs.lumalabs.ai/docs/api
  (``POST /dream-machine/v1/generations`` with ``prompt``, ``model`` ``ray-2``/``ray-flash-2``/
  ``ray-1-6``, ``aspect_ratio``, ``resolution``, ``duration`` "5s"/"9s", ``loop``,
  ``keyframes`` ``frame0``/``frame1`` of ``{"type": "image", "url"}`` or ``{"type":
  "generation", "id"}``, ``callback_url``; ``GET /generations/{id}``; ``DELETE
  /generations/{id}``; ``GET /credits``; the key as a bearer token)
- Reference: https://docs.lumalabs.ai/reference (the generation object: ``id``,
  ``generation_type``, ``state`` queued/dreaming/completed/failed, ``failure_reason``,
  ``created_at``, ``assets`` ``video``/``image``, ``model``, ``request``)
- Callbacks: https://docs.lumalabs.ai/changelog/callbacks-and-credits-balance (a POST of the
  generation object to ``callback_url`` when it is dreaming, completed or failed; a non-200
  answer is retried 3 times, with a 5 s timeout)
- SDK: github.com/lumalabs/lumaai-python (``types/generation_create_params.py``: the values of
  ``aspect_ratio`` 1:1, 16:9, 9:16, 4:3, 3:4, 21:9, 9:21 and ``resolution`` 540p, 720p, 1080p, 4k;
  ``types/credit_get_response.py``: ``credit_balance``)

Errors are ``{"detail": "<message>"}``. What the pages leave open is listed under "Where the docs
are silent" in ``docs/providers.md`` (Luma section).
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

__all__ = ["LumaSimulator"]

_FIELDS = frozenset(
    {
        "prompt",
        "model",
        "aspect_ratio",
        "resolution",
        "duration",
        "loop",
        "keyframes",
        "callback_url",
        "generation_type",
        "concepts",
    }
)
_MODELS = frozenset({"ray-2", "ray-flash-2", "ray-1-6"})
_RATIOS = frozenset({"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"})
_RESOLUTIONS = frozenset({"540p", "720p", "1080p", "4k"})
_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: 400,
    Refusal.UNAUTHORIZED: 401,
    Refusal.QUOTA: 402,  # the docs name no status for an empty balance
    Refusal.RATE_LIMITED: 429,
    Refusal.SERVER_ERROR: 500,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 400,
}


class LumaSimulator(Simulator):
    """Dream Machine generations: four states, unsigned callbacks, no cancel."""

    name = "luma"
    api_root = "/dream-machine/v1"
    words = {
        Phase.QUEUED: "queued",
        Phase.RUNNING: "dreaming",
        Phase.SUCCEEDED: "completed",
        Phase.FAILED: "failed",
    }
    unknown_word = "paused"
    callback_phases = frozenset({Phase.RUNNING, Phase.SUCCEEDED, Phase.FAILED})
    callback_retries = {Phase.RUNNING: 3, Phase.SUCCEEDED: 3, Phase.FAILED: 3}
    callback_timeout_s = 5.0

    def routes(self) -> list[BaseRoute]:
        root = self.api_root
        return [
            Route(root + "/generations", self._create, methods=["POST"]),
            Route(root + "/generations/video", self._create, methods=["POST"]),
            Route(root + "/generations/{gen_id}", self._get, methods=["GET"]),
            Route(root + "/generations/{gen_id}", self._delete, methods=["DELETE"]),
            Route(root + "/credits", self._credits, methods=["GET"]),
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
        return JSONResponse({"detail": message}, status or _STATUS[refusal], dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        assets = None
        if task.phase is Phase.SUCCEEDED:
            assets = {"video": self.file_url(task, "video.mp4"), "image": None}
        failure = None
        if task.phase is Phase.FAILED:
            failure = task.script.error_message or "The generation failed"
        return {
            "id": task.id,
            "generation_type": "video",
            "state": word,
            "failure_reason": failure,
            "created_at": iso_time(task.created_at),
            "assets": assets,
            "model": task.model,
            "request": task.request,
        }

    async def _create(self, request: Request) -> Response:
        accepted = await self.accept_create(request, _problem)
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        task = self.new_task(
            task_id=str(uuid.uuid4()),
            key=key,
            prompt=body.get("prompt", ""),
            model=body["model"],
            request=body,
            callback_url=body.get("callback_url"),
        )
        return await self.created(task, self.view(task, "queued"), status_code=201)

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["gen_id"])

    async def _delete(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["gen_id"])
        if task is None:
            return self.not_found(request.path_params["gen_id"])
        self.forget(task)  # removed, in whatever state: no cancelled state exists
        return Response(status_code=204)

    async def _credits(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        return JSONResponse({"credit_balance": 10000.0})

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, "Generation not found")


def _problem(body: Any) -> str | None:
    """What the documentation contradicts in a create body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return f"Unknown field: {unknown[0]}"
    if body.get("model") not in _MODELS:
        return f"model must be one of {sorted(_MODELS)}"
    if body.get("generation_type", "video") != "video":
        return "generation_type must be video"
    if "aspect_ratio" in body and body["aspect_ratio"] not in _RATIOS:
        return f"aspect_ratio must be one of {sorted(_RATIOS)}"
    if "resolution" in body and body["resolution"] not in _RESOLUTIONS:
        return f"resolution must be one of {sorted(_RESOLUTIONS)}"
    if "duration" in body and body["duration"] not in ("5s", "9s"):
        return "duration must be 5s or 9s"
    if "loop" in body and not isinstance(body["loop"], bool):
        return "loop must be a boolean"
    keyframes = body.get("keyframes", {})
    if not isinstance(keyframes, dict) or set(keyframes) - {"frame0", "frame1"}:
        return "keyframes holds frame0 and frame1 only"
    for name, frame in keyframes.items():
        if not isinstance(frame, dict):
            return f"keyframes.{name} must be an object"
        if frame.get("type") == "image" and isinstance(frame.get("url"), str) and frame["url"]:
            continue
        if frame.get("type") == "generation" and isinstance(frame.get("id"), str):
            continue
        return f"keyframes.{name} must be an image with a url or a generation with an id"
    if not body.get("prompt") and not keyframes:
        return "prompt is required"
    return None
