"""MiniMax Hailuo video generation: ``/v1/video_generation``, its query, and the file it makes.

Written from MiniMax's public API reference (platform.minimax.io; the Chinese pages at
platform.minimaxi.com hold the same OpenAPI description):

- Create: https://platform.minimax.io/docs/api-reference/video-generation-t2v (and the i2v, fl2v
  pages): ``model`` (required), ``prompt``, ``prompt_optimizer``, ``fast_pretreatment``,
  ``duration``, ``resolution``, ``first_frame_image``, ``last_frame_image``,
  ``subject_reference``, ``callback_url``, ``aigc_watermark``; answers ``{"task_id", "base_resp"}``
- Query: https://platform.minimax.io/docs/api-reference/video-generation-query
  (``GET /v1/query/video_generation?task_id=``): ``task_id``, ``status`` Preparing | Queueing |
  Processing | Success | Fail, ``file_id`` (on success), ``video_width``, ``video_height``,
  ``base_resp``
- Download: https://platform.minimax.io/docs/api-reference/video-generation-download
  (``GET /v1/files/retrieve?file_id=``): ``{"file": {file_id, bytes, created_at, filename,
  purpose, download_url}, "base_resp"}``
- Errors: https://platform.minimax.io/docs/api-reference/errorcode: HTTP 200 with
  ``base_resp {status_code, status_msg}``; 1002 rate limit, 1004 not authorized, 1008
  insufficient balance, 1026/1027 sensitive input/output, 2013 invalid parameters, 2049 invalid
  API key, 1000 unknown error
- Auth: ``Authorization: Bearer <API key>``

What the pages leave open is listed under "Where the docs are silent" in ``docs/providers.md``
(MiniMax section).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["MiniMaxSimulator"]

_STRINGS = (
    "model",
    "prompt",
    "first_frame_image",
    "last_frame_image",
    "callback_url",
    "resolution",
)
_KNOWN = frozenset(
    {
        *_STRINGS,
        "prompt_optimizer",
        "fast_pretreatment",
        "duration",
        "subject_reference",
        "aigc_watermark",
    }
)
_DURATIONS = (6, 10)
_RESOLUTIONS = ("512P", "720P", "768P", "1080P")

#: ``base_resp.status_code`` per refusal, from the error-code page (HTTP 200 throughout, but a
#: 5xx injected as a front proxy's keeps its status).
_CODES: Mapping[Refusal, int] = {
    Refusal.INVALID: 2013,
    Refusal.UNAUTHORIZED: 1004,
    Refusal.QUOTA: 1008,
    Refusal.RATE_LIMITED: 1002,
    Refusal.SERVER_ERROR: 1000,
    Refusal.NOT_FOUND: 2013,
    Refusal.CONFLICT: 2013,
}


class MiniMaxSimulator(Simulator):
    """Video tasks whose result is a file id; the files endpoint gives the download URL."""

    name = "minimax"
    api_root = "/v1"
    words = {
        Phase.QUEUED: "Queueing",
        Phase.RUNNING: "Processing",
        Phase.SUCCEEDED: "Success",
        Phase.FAILED: "Fail",
    }
    unknown_word = "Paused"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._file_ids = itertools.count(205258526306433)
        #: file_id -> task, for the files endpoint.
        self.files: dict[str, SimTask] = {}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(self.api_root + "/video_generation", self._create, methods=["POST"]),
            Route(self.api_root + "/query/video_generation", self._get, methods=["GET"]),
            Route(self.api_root + "/files/retrieve", self._retrieve, methods=["GET"]),
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
        status_code = int(code) if code and code.isdigit() else _CODES[refusal]
        envelope = {"base_resp": {"status_code": status_code, "status_msg": message}}
        # MiniMax answers its own errors with 200; a 5xx burst stands for a front proxy.
        http = status if status is not None and status >= 500 else 200
        return JSONResponse(envelope, http, dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        body: JSONObject = {"task_id": task.id, "status": word}
        if task.phase is Phase.SUCCEEDED:
            body["file_id"] = task.request["_file_id"]
            body["video_width"], body["video_height"] = 320, 240  # the sample result's size
        code, message = 0, "success"
        if task.phase is Phase.FAILED:
            scripted = task.script.error_code
            code = scripted if isinstance(scripted, int) else 1027
            message = task.script.error_message or "output video sensitive"
        body["base_resp"] = {"status_code": code, "status_msg": message}
        return body

    async def _create(self, request: Request) -> Response:
        accepted = await self.accept_create(request, _problem)
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        file_id = str(next(self._file_ids))
        task = self.new_task(
            task_id=str(106916112212032 + len(self.tasks)),
            key=key,
            prompt=body.get("prompt", ""),
            model=body["model"],
            request={**body, "_file_id": file_id},
        )
        self.files[file_id] = task
        return await self.created(
            task, {"task_id": task.id, "base_resp": {"status_code": 0, "status_msg": "success"}}
        )

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.query_params.get("task_id", ""))

    async def _retrieve(self, request: Request) -> Response:
        key = await self.gate(request, Op.CONTENT)
        if isinstance(key, Response):
            return key
        file_id = request.query_params.get("file_id", "")
        task = self.files.get(file_id)
        if task is not None:
            task = self.lookup(task.id)
        if task is None or task.phase is not Phase.SUCCEEDED:
            return self.refuse(Refusal.NOT_FOUND, f"file {file_id} not found")
        file = {
            "file_id": int(file_id),
            "bytes": len(self.media.video),
            "created_at": int(task.finished_at or task.created_at),
            "filename": "output_aigc.mp4",
            "purpose": "video_generation",
            "download_url": self.file_url(task, "video.mp4"),
        }
        return JSONResponse(
            {"file": file, "base_resp": {"status_code": 0, "status_msg": "success"}}
        )

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"task {task_id} not found")


def _problem(body: Any) -> str | None:
    """What the docs contradict in a create body, or None."""
    if not isinstance(body, dict):
        return "invalid params: the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "invalid params: model is required"
    for name in _STRINGS:
        if name in body and not isinstance(body[name], str):
            return f"invalid params: {name} must be a string"
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        return f"invalid params: unknown field {unknown[0]}"
    if "duration" in body and body["duration"] not in _DURATIONS:
        return f"invalid params: duration must be one of {_DURATIONS}"
    if "resolution" in body and body["resolution"] not in _RESOLUTIONS:
        return f"invalid params: resolution must be one of {_RESOLUTIONS}"
    if not body.get("prompt") and not body.get("first_frame_image"):
        return "invalid params: prompt or first_frame_image is required"
    return None
