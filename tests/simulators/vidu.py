"""Vidu's enterprise API (viduq1, vidu2.0, vidu1.5 video), played from its public reference.

Written from Vidu's public documentation:

- https://platform.vidu.com/docs/text-to-video (``POST /ent/v2/text2video``: ``model``,
  ``style``, ``prompt`` (required), ``duration``, ``seed``, ``aspect_ratio`` 16:9/9:16/1:1,
  ``resolution``, ``movement_amplitude``, ``bgm``, ``payload``, ``callback_url``)
- https://platform.vidu.com/docs/image-to-video (``POST /ent/v2/img2video``: ``images``, exactly
  one start frame; ``prompt`` optional; no ``aspect_ratio`` or ``style``)
- https://platform.vidu.com/docs/start-end-to-video (``POST /ent/v2/start-end2video``: two
  ``images``, start then end)
- https://platform.vidu.com/docs/reference-to-video (``POST /ent/v2/reference2video``: 1-7
  ``images``, ``prompt`` required, ``aspect_ratio``)
- https://platform.vidu.com/docs/get-generation (``GET /ent/v2/tasks/{id}/creations``: ``state``
  created, queueing, processing, success, failed; ``err_code``; ``credits``; ``payload``;
  ``creations[]`` of ``{id, url, cover_url}``, URLs valid for a limited time)
- https://platform.vidu.com/docs/cancel-generation (``POST /ent/v2/tasks/{id}/cancel`` answers
  ``{}``; a task that has gone too far answers 400 BadRequest "... can not cancel")
- https://platform.vidu.com/docs/get-account-info (``GET /ent/v2/credits``)
- https://platform.vidu.com/docs/error-code (HTTP status with a ``reason``: FieldInvalid,
  CreditInsufficient, UserCancelled, Unauthorized, TaskNotFound, TooManyRequests, ...)

Every request carries ``Authorization: Token <key>``. Errors are ``{"code", "reason", "message",
"metadata": {"trace_id"}}``, as the cancel page's failed example shows. What the pages leave open
is listed under "Where the docs are silent" in ``docs/providers.md`` (Vidu section).
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

__all__ = ["ViduSimulator"]

_COMMON = frozenset(
    {"model", "prompt", "duration", "seed", "resolution", "movement_amplitude", "bgm", "payload"}
    | {"callback_url"}
)
#: Per endpoint: the fields it takes besides the common ones, and how many ``images``.
_ENDPOINTS: Mapping[str, tuple[frozenset[str], tuple[int, int]]] = {
    "text2video": (frozenset({"style", "aspect_ratio"}), (0, 0)),
    "img2video": (frozenset({"images"}), (1, 1)),
    "start-end2video": (frozenset({"images"}), (2, 2)),
    "reference2video": (frozenset({"images", "aspect_ratio"}), (1, 7)),
}
_RATIOS = frozenset({"16:9", "9:16", "1:1", "3:4", "4:3"})
_RESOLUTIONS = frozenset({"360p", "540p", "720p", "1080p"})
_AMPLITUDES = frozenset({"auto", "small", "medium", "large"})
_REFUSALS: Mapping[Refusal, tuple[int, str]] = {
    Refusal.INVALID: (400, "FieldInvalid"),
    Refusal.UNAUTHORIZED: (401, "Unauthorized"),
    Refusal.QUOTA: (400, "CreditInsufficient"),
    Refusal.RATE_LIMITED: (429, "TooManyRequests"),
    Refusal.SERVER_ERROR: (500, "InternalServiceFailure"),
    Refusal.NOT_FOUND: (404, "TaskNotFound"),
    Refusal.CONFLICT: (400, "BadRequest"),
}


class ViduSimulator(Simulator):
    """Vidu tasks: four create endpoints, a ``creations`` read, cancel while queued."""

    name = "vidu"
    api_root = "/ent/v2"
    words = {
        Phase.QUEUED: "queueing",
        Phase.RUNNING: "processing",
        Phase.SUCCEEDED: "success",
        Phase.FAILED: "failed",
        Phase.CANCELLED: "failed",  # with err_code UserCancelled
    }
    unknown_word = "paused"
    #: "processing", "success" and "failed" are sent; the last two are retried three times.
    callback_phases = frozenset({Phase.RUNNING, Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED})
    callback_retries = {Phase.SUCCEEDED: 3, Phase.FAILED: 3}
    url_lifetime_s = 24 * 3600.0

    def routes(self) -> list[BaseRoute]:
        root = self.api_root
        creates = [
            Route(f"{root}/{endpoint}", self._creator(endpoint), methods=["POST"])
            for endpoint in _ENDPOINTS
        ]
        return [
            *creates,
            Route(root + "/tasks/{task_id}/creations", self._get, methods=["GET"]),
            Route(root + "/tasks/{task_id}/cancel", self._cancel, methods=["POST"]),
            Route(root + "/credits", self._credits, methods=["GET"]),
        ]

    def presented_key(self, request: Request) -> str | None:
        """``Authorization: Token <key>``: a Bearer header is not what Vidu documents."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return key if scheme == "Token" and key else None

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
        default_status, reason = _REFUSALS[refusal]
        status = status or default_status
        body = {
            "code": status,
            "reason": code or reason,
            "message": message,
            "metadata": {"trace_id": secrets.token_hex(16)},
        }
        return JSONResponse(body, status, dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        body: JSONObject = {
            "id": task.id,
            "state": word,
            "err_code": "",
            "credits": 0,
            "payload": task.request.get("payload", ""),
            "bgm": bool(task.request.get("bgm", False)),
            "off_peak": False,
            "creations": [],
        }
        if task.phase is Phase.SUCCEEDED:
            body["credits"] = 4
            body["creations"] = [
                {
                    "id": f"{task.id}-1",
                    "url": self.file_url(task, "video.mp4"),
                    "cover_url": self.file_url(task, "last_frame.png"),
                }
            ]
        elif task.phase is Phase.FAILED:
            body["err_code"] = str(task.script.error_code or "InternalServiceFailure")
        elif task.phase is Phase.CANCELLED:
            body["err_code"] = "UserCancelled"
        return body

    def _creator(self, endpoint: str) -> Any:
        async def create(request: Request) -> Response:
            return await self._create(request, endpoint)

        return create

    async def _create(self, request: Request, endpoint: str) -> Response:
        accepted = await self.accept_create(request, lambda body: _problem(body, endpoint))
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        task = self.new_task(
            task_id=str(secrets.randbelow(10**17) + 8 * 10**17),
            key=key,
            prompt=body.get("prompt", ""),
            model=body["model"],
            request=body,
            callback_url=body.get("callback_url"),
        )
        answer = {
            "task_id": task.id,
            "state": "created",
            "model": body["model"],
            "prompt": body.get("prompt", ""),
            "images": body.get("images", []),
            "duration": body.get("duration", 4),
            "seed": body.get("seed", secrets.randbelow(2**31)),
            "resolution": body.get("resolution", "720p"),
            "movement_amplitude": body.get("movement_amplitude", "auto"),
            "payload": body.get("payload", ""),
            "created_at": iso_time(task.created_at, 6),
        }
        if "aspect_ratio" in _ENDPOINTS[endpoint][0]:
            answer["aspect_ratio"] = body.get("aspect_ratio", "16:9")
        return await self.created(task, answer)

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    async def _cancel(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["task_id"])
        if task is None:
            return self.not_found(request.path_params["task_id"])
        if task.phase is not Phase.QUEUED:
            word = self.words.get(task.phase, task.phase.value)
            return self.refuse(Refusal.CONFLICT, f"task state is {word}, can not cancel")
        self.cancel(task)
        return JSONResponse({})

    async def _credits(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        remains = {
            "type": "metered",
            "credit_remain": 1000,
            "concurrency_limit": 5,
            "current_concurrency": 0,
            "queue_count": 0,
        }
        return JSONResponse({"remains": [remains], "packages": []})

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, "task not found")


def _problem(body: Any, endpoint: str) -> str | None:
    """What the endpoint's reference contradicts in a create body, or None."""
    if not isinstance(body, dict):
        return "invalid field: body"
    extra, (fewest, most) = _ENDPOINTS[endpoint]
    unwanted = sorted(set(body) - _COMMON - extra)
    if unwanted:
        return f"unwanted field: {', '.join(unwanted)}"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "field is missing or empty: model"
    prompt_needed = endpoint in ("text2video", "reference2video")
    if prompt_needed and (not isinstance(body.get("prompt"), str) or not body["prompt"]):
        return "field is missing or empty: prompt"
    if most:
        images = body.get("images")
        if not isinstance(images, list) or not all(isinstance(i, str) and i for i in images):
            return "field is missing or empty: images"
        if not fewest <= len(images) <= most:
            return "field item count out of range: images"
    checks = (
        ("aspect_ratio", _RATIOS),
        ("resolution", _RESOLUTIONS),
        ("movement_amplitude", _AMPLITUDES),
    )
    for field, allowed in checks:
        if field in body and body[field] not in allowed:
            return f"invalid field: {field}"
    for field in ("duration", "seed"):
        if field in body and (type(body[field]) is not int or body[field] < 0):
            return f"invalid field: {field}"
    return None
