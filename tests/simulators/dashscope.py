"""Alibaba Cloud Model Studio (DashScope) Wan video generation, asynchronous over HTTP.

Written from Alibaba Cloud's public API reference:

- Create: https://www.alibabacloud.com/help/en/model-studio/text-to-video-api-reference and
  https://www.alibabacloud.com/help/en/model-studio/image-to-video-api-reference
  (``POST /api/v1/services/aigc/video-generation/video-synthesis``, headers ``Authorization:
  Bearer``, ``Content-Type: application/json``, ``X-DashScope-Async: enable``; body ``model``,
  ``input {prompt, negative_prompt, img_url, first_frame_url, last_frame_url, audio_url}``,
  ``parameters {size, resolution, duration, prompt_extend, seed, watermark, audio}``); answers
  ``{"output": {"task_id", "task_status": "PENDING"}, "request_id"}``
- Tasks: https://www.alibabacloud.com/help/en/model-studio/manage-asynchronous-tasks
  (``GET /api/v1/tasks/{task_id}``: ``output {task_id, task_status, submit_time,
  scheduled_time, end_time, video_url, code, message}``, ``usage``; statuses PENDING, RUNNING,
  SUCCEEDED, FAILED, CANCELED, UNKNOWN (an unknown or expired id); ``POST
  /api/v1/tasks/{task_id}/cancel`` cancels a PENDING task only; ``GET /api/v1/tasks`` lists)
- Errors: https://www.alibabacloud.com/help/en/model-studio/error-code
  (``{"code", "message", "request_id"}``: 400 InvalidParameter, DataInspectionFailed,
  Arrearage; 401 InvalidApiKey; 403 AccessDenied; 429 Throttling…; 500 InternalError)

Task ids and result URLs are kept 24 hours. What the pages leave open is listed under "Where the
docs are silent" in ``docs/providers.md`` (DashScope section).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator, json_body
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["DashScopeSimulator"]

_INPUT = frozenset(
    {"prompt", "negative_prompt", "img_url", "first_frame_url", "last_frame_url", "audio_url"}
)
_PARAMETERS = frozenset(
    {"size", "resolution", "duration", "prompt_extend", "seed", "watermark", "audio", "shot_type"}
)

_REFUSALS: Mapping[Refusal, tuple[int, str]] = {
    Refusal.INVALID: (400, "InvalidParameter"),
    Refusal.UNAUTHORIZED: (401, "InvalidApiKey"),
    Refusal.QUOTA: (400, "Arrearage"),
    Refusal.RATE_LIMITED: (429, "Throttling.RateQuota"),
    Refusal.SERVER_ERROR: (500, "InternalError"),
    Refusal.NOT_FOUND: (404, "NotFound"),
    Refusal.CONFLICT: (400, "UnsupportedOperation"),
}


def _stamp(at: float | None) -> str | None:
    if at is None:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"


class DashScopeSimulator(Simulator):
    """Wan video tasks; a PENDING task can be cancelled; ids are kept 24 hours."""

    name = "dashscope"
    api_root = "/api/v1"
    words = {
        Phase.QUEUED: "PENDING",
        Phase.RUNNING: "RUNNING",
        Phase.SUCCEEDED: "SUCCEEDED",
        Phase.FAILED: "FAILED",
        Phase.CANCELLED: "CANCELED",
    }
    unknown_word = "SUSPENDED"
    url_lifetime_s = 24 * 3600.0

    def routes(self) -> list[BaseRoute]:
        root = self.api_root
        return [
            Route(
                root + "/services/aigc/video-generation/video-synthesis",
                self._create,
                methods=["POST"],
            ),
            Route(root + "/tasks", self._list, methods=["GET"]),
            Route(root + "/tasks/{task_id}", self._get, methods=["GET"]),
            Route(root + "/tasks/{task_id}/cancel", self._cancel, methods=["POST"]),
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
        default_status, default_code = _REFUSALS[refusal]
        body = {"code": code or default_code, "message": message, "request_id": str(uuid.uuid4())}
        return JSONResponse(body, status or default_status, dict(headers or {}))

    def gone(self, task: SimTask) -> bool:
        return self.now() - task.created_at > 24 * 3600

    def view(self, task: SimTask, word: str) -> JSONObject:
        output: JSONObject = {
            "task_id": task.id,
            "task_status": word,
            "submit_time": _stamp(task.created_at),
        }
        if task.phase is not Phase.QUEUED:
            output["scheduled_time"] = _stamp(task.created_at + task.queue_s)
        if task.finished_at is not None:
            output["end_time"] = _stamp(task.finished_at)
        body: JSONObject = {"request_id": str(uuid.uuid4()), "output": output}
        if task.phase is Phase.SUCCEEDED:
            output["video_url"] = self.file_url(task, "video.mp4")
            output["orig_prompt"] = task.prompt
            duration = task.request.get("parameters", {}).get("duration", 5)
            body["usage"] = {"video_duration": duration, "video_count": 1}
        elif task.phase is Phase.FAILED:
            output["code"] = str(task.script.error_code or "InternalError")
            output["message"] = task.script.error_message or "the video could not be generated"
        return body

    async def _create(self, request: Request) -> Response:
        key = await self.gate(request, Op.CREATE)
        if isinstance(key, Response):
            return key
        if request.headers.get("x-dashscope-async") != "enable":
            return self.refuse(
                Refusal.UNAUTHORIZED,
                "current user api does not support synchronous calls",
                code="AccessDenied",
                status=403,
            )
        body = await json_body(request)
        problem = _problem(body)
        if problem is not None:
            return self.refuse(Refusal.INVALID, problem)
        given = body.get("input", {})
        task = self.new_task(
            task_id=str(uuid.uuid4()),
            key=key,
            prompt=given.get("prompt", ""),
            model=body["model"],
            request=body,
        )
        return await self.created(
            task,
            {
                "output": {"task_id": task.id, "task_status": "PENDING"},
                "request_id": str(uuid.uuid4()),
            },
        )

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    async def _list(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        size = int(request.query_params.get("page_size", "10"))
        tasks = sorted(self.tasks.values(), key=lambda t: t.created_at, reverse=True)
        data = [self.view(task, self.words[task.phase])["output"] for task in tasks[:size]]
        return JSONResponse(
            {"request_id": str(uuid.uuid4()), "data": data, "total": len(tasks), "page_no": 1}
        )

    async def _cancel(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["task_id"])
        if task is None:
            return self.not_found(request.path_params["task_id"])
        if task.phase is not Phase.QUEUED:
            return self.refuse(
                Refusal.CONFLICT,
                f"only a PENDING task can be cancelled; this one is "
                f"{self.words.get(task.phase, task.phase.value)}",
            )
        self.cancel(task)
        return JSONResponse({"request_id": str(uuid.uuid4())})

    def not_found(self, task_id: str) -> Response:
        # The tasks page: an unknown or expired id reads as status UNKNOWN, not a 404.
        return JSONResponse(
            {
                "request_id": str(uuid.uuid4()),
                "output": {"task_id": task_id, "task_status": "UNKNOWN"},
            }
        )


def _problem(body: Any) -> str | None:
    """What the docs contradict in a create body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "Model not exist."
    given = body.get("input")
    if not isinstance(given, dict):
        return "input is required"
    unknown = sorted(set(given) - _INPUT) + sorted(set(body.get("parameters") or {}) - _PARAMETERS)
    if unknown:
        return f"unknown field {unknown[0]}"
    if not given.get("prompt") and not given.get("img_url") and not given.get("first_frame_url"):
        return "input.prompt is required"
    parameters = body.get("parameters") or {}
    if "duration" in parameters and type(parameters["duration"]) is not int:
        return "parameters.duration must be an integer"
    if "seed" in parameters and type(parameters["seed"]) is not int:
        return "parameters.seed must be an integer"
    return None
