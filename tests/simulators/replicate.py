"""Replicate's HTTP API (predictions of a hosted video model), played from its public docs.

Written from Replicate's public documentation:

- HTTP reference: https://replicate.com/docs/reference/http (``POST /v1/models/{owner}/{name}/
  predictions`` for official models and ``POST /v1/predictions`` with a ``version``, both taking
  ``input``, ``webhook``, ``webhook_events_filter`` and answering 201 with the prediction;
  ``GET /v1/predictions/{id}``; ``POST /v1/predictions/{id}/cancel``; ``GET /v1/account``)
- Prediction lifecycle: https://replicate.com/docs/topics/predictions/lifecycle (starting,
  processing, succeeded, failed, canceled, aborted)
- Webhooks: https://replicate.com/docs/topics/webhooks (the body is the prediction; ``start``
  and ``completed`` events are always sent)
- The input schema played for every model: https://replicate.com/kwaivgi/kling-v1.6-pro/api
  (``prompt``, ``negative_prompt``, ``aspect_ratio`` 16:9 / 9:16 / 1:1, ``start_image``,
  ``end_image``, ``reference_images`` up to 4, ``cfg_scale`` 0-1, ``duration`` 5 or 10; the
  output one URI)

Inputs and outputs are deleted an hour after a prediction ends (``url_lifetime_s``). Errors are
problem objects ``{"title", "detail", "status"}``. What the pages leave open is listed under
"Where the docs are silent" in ``docs/providers.md`` (Replicate section).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator, iso_time
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["ReplicateSimulator"]

_INPUTS = frozenset(
    {
        "prompt",
        "negative_prompt",
        "aspect_ratio",
        "start_image",
        "end_image",
        "reference_images",
        "cfg_scale",
        "duration",
    }
)
_BODY = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
_EVENTS = frozenset({"start", "output", "logs", "completed"})
_RATIOS = frozenset({"16:9", "9:16", "1:1"})
_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: 422,
    Refusal.UNAUTHORIZED: 401,
    Refusal.QUOTA: 402,
    Refusal.RATE_LIMITED: 429,
    Refusal.SERVER_ERROR: 500,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 409,
}
_TITLES: Mapping[Refusal, str] = {
    Refusal.INVALID: "Input validation failed",
    Refusal.UNAUTHORIZED: "Unauthenticated",
    Refusal.QUOTA: "Insufficient credit",
    Refusal.RATE_LIMITED: "Request was throttled",
    Refusal.SERVER_ERROR: "Internal server error",
    Refusal.NOT_FOUND: "Not found",
    Refusal.CONFLICT: "Conflict",
}


def _iso(at: float | None) -> str | None:
    return None if at is None else iso_time(at, 6)


class ReplicateSimulator(Simulator):
    """Replicate predictions: logs as one string, an output URI that lives an hour, cancel."""

    name = "replicate"
    api_root = "/v1"
    words = {
        Phase.QUEUED: "starting",
        Phase.RUNNING: "processing",
        Phase.SUCCEEDED: "succeeded",
        Phase.FAILED: "failed",
        Phase.CANCELLED: "canceled",
        Phase.EXPIRED: "aborted",
    }
    unknown_word = "paused"
    #: ``start`` on creation and ``completed`` at the end: the events always sent.
    callback_phases = frozenset(
        {Phase.QUEUED, Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED}
    )
    url_lifetime_s = 3600.0

    def routes(self) -> list[BaseRoute]:
        root = self.api_root
        return [
            Route(
                root + "/models/{owner}/{name}/predictions", self._create_model, methods=["POST"]
            ),
            Route(root + "/predictions", self._create_version, methods=["POST"]),
            Route(root + "/predictions/{task_id}", self._get, methods=["GET"]),
            Route(root + "/predictions/{task_id}/cancel", self._cancel, methods=["POST"]),
            Route(root + "/account", self._account, methods=["GET"]),
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
        status = status or _STATUS[refusal]
        body = {"title": _TITLES[refusal], "detail": message, "status": status}
        return JSONResponse(body, status, dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        lines = ["Starting the prediction"] if task.phase is not Phase.QUEUED else []
        if task.phase is Phase.RUNNING:
            lines.append(f"Generating: {self.progress(task)}%")
        elif task.phase is Phase.SUCCEEDED:
            lines.append("Generating: 100%")
        body: JSONObject = {
            "id": task.id,
            "model": task.model,
            "version": task.request.get("version", "hidden"),
            "input": task.request["input"],
            "logs": "\n".join(lines) + ("\n" if lines else ""),
            "output": None,
            "error": None,
            "status": word,
            "created_at": _iso(task.created_at),
            "started_at": _iso(task.created_at + task.queue_s)
            if task.phase is not Phase.QUEUED
            else None,
            "completed_at": _iso(task.finished_at),
            "urls": {
                "get": f"{self.base_url}/predictions/{task.id}",
                "cancel": f"{self.base_url}/predictions/{task.id}/cancel",
            },
            "metrics": {},
        }
        if task.phase is Phase.SUCCEEDED:
            body["output"] = self.file_url(task, "video.mp4")
        elif task.phase is Phase.FAILED:
            body["error"] = task.script.error_message or "The model could not make the video"
        return body

    async def _create_model(self, request: Request) -> Response:
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        return await self._create(request, model, version=False)

    async def _create_version(self, request: Request) -> Response:
        return await self._create(request, "", version=True)

    async def _create(self, request: Request, model: str, *, version: bool) -> Response:
        accepted = await self.accept_create(request, lambda body: _problem(body, version))
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        task = self.new_task(
            task_id=secrets.token_hex(13),
            key=key,
            prompt=body["input"].get("prompt", ""),
            model=model or str(body["version"]).partition(":")[0],
            request=body,
            callback_url=body.get("webhook"),
        )
        return await self.created(task, self.view(task, self.words[Phase.QUEUED]), 201)

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    async def _cancel(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["task_id"])
        if task is None:
            return self.not_found(request.path_params["task_id"])
        if task.phase in (Phase.QUEUED, Phase.RUNNING):
            self.cancel(task)
        return JSONResponse(self.read(task))

    async def _account(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        return JSONResponse({"type": "user", "username": "sim", "name": "Simulator"})

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, "The requested resource could not be found.")


def _problem(body: Any, version: bool) -> str | None:
    """What the reference and the Kling v1.6 input schema contradict in a create body."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object"
    allowed = _BODY | ({"version"} if version else set())
    unknown = sorted(set(body) - allowed)
    if unknown:
        return f"Additional property {unknown[0]} is not allowed"
    if version and (not isinstance(body.get("version"), str) or not body["version"]):
        return "version is required"
    events = body.get("webhook_events_filter", [])
    if not isinstance(events, list) or not set(events) <= _EVENTS:
        return f"webhook_events_filter items must be among {sorted(_EVENTS)}"
    inputs = body.get("input")
    if not isinstance(inputs, dict):
        return "input is required"
    extra = sorted(set(inputs) - _INPUTS)
    if extra:
        return f"input: Additional property {extra[0]} is not allowed"
    if not isinstance(inputs.get("prompt"), str) or not inputs["prompt"]:
        return "input: prompt is required"
    if "aspect_ratio" in inputs and inputs["aspect_ratio"] not in _RATIOS:
        return f"input.aspect_ratio must be one of {sorted(_RATIOS)}"
    if "duration" in inputs and inputs["duration"] not in (5, 10):
        return "input.duration must be one of [5, 10]"
    references = inputs.get("reference_images", [])
    if not isinstance(references, list) or len(references) > 4:
        return "input.reference_images: at most 4 images"
    return None
