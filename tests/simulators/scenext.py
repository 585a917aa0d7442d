"""Scenext's explainer-video API, played from its public reference (seeds 000 and 002).

Written from Scenext's public documentation:

- https://docs.scenext.cn/en/api-reference/generate-video (``POST /api/gen_video``: ``question``
  and/or ``questionImages`` (at least one), ``answer``, ``answerImages`` (URLs or base64),
  ``quality`` h/m/l (default m), ``notify_url`` called when the task is done; the answer is
  ``{"status": "success", "data": {"task_id"}}``)
- https://docs.scenext.cn/en/api-reference/get-status (``GET /api/get_status/{task_id}``:
  ``{"status": "success", "data": {"task_id", "status", "progress": [{"id": "frame1", "image":
  <signed OSS URL>}, ...]}}``; ``status`` IN_PROGRESS, COMPLETED, FAILED; a result and the points
  spent once the task has ended; "error" as the request status with a message)

Both take ``Authorization: Bearer <key>``. The pages do not show the finished answer: this
simulator gives ``data.result`` as ``{"video_url", "cover_url"}`` and a failure as ``data.error``
``{"code", "message"}``, the shape vidtask's own Scenext dialect serves. Preview frames appear in
``progress`` as the render runs (one per quarter), each a signed-looking URL this simulator
serves. ``docs/providers.md`` (Scenext section) lists what the pages leave open.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator
from tests.simulators.script import Phase, Refusal

__all__ = ["ScenextSimulator"]

_FIELDS = frozenset(
    {"question", "answer", "questionImages", "answerImages", "quality", "notify_url"}
)
_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: 400,
    Refusal.UNAUTHORIZED: 401,
    Refusal.QUOTA: 402,
    Refusal.RATE_LIMITED: 429,
    Refusal.SERVER_ERROR: 500,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 409,
}
#: Preview frames a finished render has shown.
FRAMES = 4


class ScenextSimulator(Simulator):
    """Scenext tasks: one in-progress word, preview frames, a result once completed."""

    name = "scenext"
    api_root = "/api"
    words = {
        Phase.QUEUED: "IN_PROGRESS",
        Phase.RUNNING: "IN_PROGRESS",
        Phase.SUCCEEDED: "COMPLETED",
        Phase.FAILED: "FAILED",
    }
    unknown_word = "PAUSED"
    callback_phases = frozenset({Phase.SUCCEEDED, Phase.FAILED})

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/gen_video", self._gen_video, methods=["POST"]),
            Route("/api/get_status/{task_id}", self._get_status, methods=["GET"]),
            Route("/_sim/frames/{token}/{name}", self._frame, methods=["GET"]),
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
        body = {"status": "error", "message": message}
        return JSONResponse(body, status or _STATUS[refusal], dict(headers or {}))

    def frames(self, task: SimTask) -> int:
        """Preview frames shown so far: one per quarter of the render."""
        if task.phase is Phase.SUCCEEDED:
            return FRAMES
        if task.phase is Phase.QUEUED:
            return 0
        return min(FRAMES - 1, self.progress(task) * FRAMES // 100)

    def view(self, task: SimTask, word: str) -> JSONObject:
        expires = int(self.now()) + 3600
        progress = [
            {
                "id": f"frame{n}",
                "image": f"{self.url}/_sim/frames/{task.file_token}/frame{n}.png"
                f"?OSSAccessKeyId=SIM&Expires={expires}&Signature={secrets.token_urlsafe(12)}",
            }
            for n in range(1, self.frames(task) + 1)
        ]
        data: JSONObject = {"task_id": task.id, "status": word, "progress": progress}
        if task.phase is Phase.SUCCEEDED:
            data["result"] = {
                "video_url": self.file_url(task, "video.mp4"),
                "cover_url": self.file_url(task, "last_frame.png"),
            }
        elif task.phase is Phase.FAILED:
            data["error"] = {
                "code": str(task.script.error_code or "render_failed"),
                "message": task.script.error_message or "the video could not be generated",
            }
        return {"status": "success", "data": data}

    async def _gen_video(self, request: Request) -> Response:
        accepted = await self.accept_create(request, _problem)
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        task = self.new_task(
            task_id=str(uuid.uuid4()),
            key=key,
            prompt=body.get("question", ""),
            model="scenext",
            request=body,
            callback_url=body.get("notify_url"),
        )
        return await self.created(task, {"status": "success", "data": {"task_id": task.id}})

    async def _get_status(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["task_id"])

    async def _frame(self, request: Request) -> Response:
        task = self._find_token(request.path_params["token"])
        if task is None:
            return Response("no such object", status_code=404)
        return Response(self.media.last_frame, media_type="image/png")

    def _find_token(self, token: str) -> SimTask | None:
        for task in self.tasks.values():
            if task.file_token == token:
                return task
        return None

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"task {task_id} not found")


def _problem(body: Any) -> str | None:
    """What the reference contradicts in a ``gen_video`` body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return f"unknown parameter: {unknown[0]}"
    question, images = body.get("question"), body.get("questionImages")
    if not (isinstance(question, str) and question) and not (isinstance(images, list) and images):
        return "question or questionImages is required"
    for field in ("questionImages", "answerImages"):
        value = body.get(field, [])
        if not isinstance(value, list) or not all(isinstance(i, str) and i for i in value):
            return f"{field} must be a list of image URLs or base64"
    if body.get("quality", "m") not in ("h", "m", "l"):
        return "quality must be h, m or l"
    return None
