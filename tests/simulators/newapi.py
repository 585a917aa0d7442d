"""New API (QuantumNous/new-api) video relay: ``/v1/video/generations``.

Written from the public documentation, which is also seed 003 (an OpenAPI copy of the same
page) in ``/work/shared/seeds/``:

- Create: https://docs.newapi.pro/zh/docs/api/ai-model/videos/createvideogeneration (request
  fields, all optional; ``{"task_id", "status": "queued"}``)
- Status: https://docs.newapi.pro/zh/docs/api/ai-model/videos/getvideogeneration (English:
  https://docs.newapi.pro/en/docs/api/ai-model/videos/get-video-generation): ``task_id``,
  ``status`` queued|in_progress|completed|failed, ``url``, ``format``, ``metadata``,
  ``error {code: integer, message}``; 404 with ``{"error": {message, type, param, code}}``
- Auth: ``Authorization: Bearer sk-…`` (the same pages)

New API answers ``unknown`` when it has lost track of its own upstream task (its source maps
any status it cannot place to ``unknown``); ``Outcome.UNKNOWN_STATUS`` reports it, for
``word_polls`` reads or for ever. What the pages leave open is listed under "Where the docs are
silent" in ``docs/providers.md`` (New API section).
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator, json_body
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["NewAPISimulator"]

_STRINGS = ("model", "prompt", "image", "response_format", "user")
_INTEGERS = ("width", "height", "fps", "seed", "n")
# The values of the documented example, used when the request does not say.
_DEFAULTS = {"duration": 5, "fps": 30, "width": 1280, "height": 720}

_REFUSALS: Mapping[Refusal, tuple[int, str, str | None]] = {
    Refusal.INVALID: (400, "invalid_request_error", None),
    Refusal.UNAUTHORIZED: (401, "new_api_error", None),
    Refusal.QUOTA: (403, "new_api_error", "insufficient_user_quota"),
    Refusal.RATE_LIMITED: (429, "new_api_error", None),
    Refusal.SERVER_ERROR: (500, "new_api_error", None),
    Refusal.NOT_FOUND: (404, "invalid_request_error", None),
    Refusal.CONFLICT: (409, "invalid_request_error", None),
}


class NewAPISimulator(Simulator):
    """Video tasks under ``/v1/video/generations``. New API has no cancel and no callback."""

    name = "newapi"
    api_root = "/v1"
    words = {
        Phase.QUEUED: "queued",
        Phase.RUNNING: "in_progress",
        Phase.SUCCEEDED: "completed",
        Phase.FAILED: "failed",
    }
    unknown_word = "unknown"

    def routes(self) -> list[BaseRoute]:
        tasks = self.api_root + "/video/generations"
        return [
            Route(tasks, self._create, methods=["POST"]),
            Route(tasks + "/{task_id}", self._get, methods=["GET"]),
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
        default_status, kind, default_code = _REFUSALS[refusal]
        error = {"message": message, "type": kind, "param": param, "code": code or default_code}
        return JSONResponse({"error": error}, status or default_status, dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        body: JSONObject = {"task_id": task.id, "status": word}
        if task.phase is Phase.SUCCEEDED:
            asked = task.request
            body["url"] = self.file_url(task, "video.mp4")
            body["format"] = "mp4"
            body["metadata"] = {
                name: asked[name] for name in ("duration", "fps", "width", "height", "seed")
            }
        elif task.phase is Phase.FAILED:
            code = task.script.error_code
            body["error"] = {
                "code": code if isinstance(code, int) else 0,
                "message": task.script.error_message or "the video could not be generated",
            }
        return body

    async def _create(self, request: Request) -> Response:
        key = await self.gate(request, Op.CREATE)
        if isinstance(key, Response):
            return key
        body = await json_body(request)
        problem = _problem(body)
        if problem is not None:
            return self.refuse(Refusal.INVALID, problem[1], param=problem[0])
        asked: JSONObject = {**_DEFAULTS, **body}
        asked.setdefault("seed", random.randrange(2**31))
        task = self.new_task(
            task_id=self._new_id(),
            key=key,
            prompt=asked.get("prompt", ""),
            model=asked.get("model", ""),
            request=asked,
        )
        return await self.created(task, {"task_id": task.id, "status": self.words[Phase.QUEUED]})

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, "task does not exist", param=task_id)

    def _new_id(self) -> str:
        # Shaped like the documented example, "abcd1234efgh".
        alphabet = string.ascii_lowercase + string.digits
        while True:
            task_id = "".join(secrets.choice(alphabet) for _ in range(12))
            if task_id not in self.tasks:
                return task_id


def _problem(body: Any) -> tuple[str, str] | None:
    """(param, message) of the first field whose type the docs contradict; None if fine."""
    if not isinstance(body, dict):
        return ("", "the body must be a JSON object")
    for name in _STRINGS:
        if name in body and not isinstance(body[name], str):
            return (name, f"{name} must be a string")
    for name in _INTEGERS:
        if name in body and (type(body[name]) is not int):
            return (name, f"{name} must be an integer")
    duration = body.get("duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float)
    ):
        return ("duration", "duration must be a number")
    if "metadata" in body and not isinstance(body["metadata"], dict):
        return ("metadata", "metadata must be an object")
    return None
