"""fal's queue (a hosted video model behind ``queue.fal.run``), played from its public docs.

Written from fal's public documentation:

- Inference API: https://fal.ai/docs/api-reference/inference-api (``POST /{owner}/{app}[/path]``
  submits; the status, result and cancel URLs use only ``owner/app`` and come back in the
  submit answer; the status read answers 202 until the request is complete, then 200;
  ``Authorization: Key <key>``)
- Queue: https://fal.ai/docs/documentation/model-apis/inference/queue (IN_QUEUE with
  ``queue_position``, IN_PROGRESS, COMPLETED; ``?logs=1`` adds ``logs`` entries with a
  ``message``; ``metrics.inference_time`` when completed)
- Result: https://fal.ai/docs/inference-api/queue/result (the model's answer, or its error with
  its status code; kept an hour)
- Cancel: https://fal.ai/docs/inference-api/queue/cancel (``PUT .../cancel``; answers
  CANCELLATION_REQUESTED, ALREADY_COMPLETED or NOT_FOUND)
- Webhooks: https://fal.ai/docs/model-endpoints/webhooks (``fal_webhook`` query parameter; a POST
  when the request is done)
- Errors: https://fal.ai/docs/documentation/model-apis/errors (``detail`` as a list of typed
  errors) and https://fal.ai/docs/documentation/model-apis/request-errors (``detail`` and
  ``error_type``, e.g. ``client_cancelled``)
- The model played: https://fal.ai/models/fal-ai/kling-video/v2/master/text-to-video/api
  (``prompt``, ``duration`` "5"/"10", ``aspect_ratio`` 16:9 / 9:16 / 1:1, ``negative_prompt``,
  ``cfg_scale``; the answer ``{"video": {"url", ...}}``)

A request that completed with an error shows ``error`` and ``error_type`` on its COMPLETED
status, as the official client (fal-ai/fal, ``fal_client``) reads it. What the pages leave open
is listed under "Where the docs are silent" in ``docs/providers.md`` (fal section).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["FalSimulator"]

_FIELDS = frozenset({"prompt", "duration", "aspect_ratio", "negative_prompt", "cfg_scale"})
_RATIOS = frozenset({"16:9", "9:16", "1:1"})
_STATUS: Mapping[Refusal, int] = {
    Refusal.INVALID: 422,
    Refusal.UNAUTHORIZED: 401,
    Refusal.QUOTA: 403,
    Refusal.RATE_LIMITED: 429,
    Refusal.SERVER_ERROR: 500,
    Refusal.NOT_FOUND: 404,
    Refusal.CONFLICT: 400,
}
_CANCELLED = ("Request was cancelled", "client_cancelled")


class FalSimulator(Simulator):
    """fal's queue: queue positions, log entries, the result as a second read, Key auth."""

    name = "fal"
    api_root = ""
    words = {
        Phase.QUEUED: "IN_QUEUE",
        Phase.RUNNING: "IN_PROGRESS",
        Phase.SUCCEEDED: "COMPLETED",
        Phase.FAILED: "COMPLETED",
        Phase.CANCELLED: "COMPLETED",
    }
    unknown_word = "PAUSED"
    #: The webhook is called once, when the request is done.
    callback_phases = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED})
    url_lifetime_s = 3600.0

    def routes(self) -> list[BaseRoute]:
        app = "/{owner}/{app}/requests/{task_id}"
        return [
            Route(app + "/status", self._status, methods=["GET"]),
            Route(app + "/cancel", self._cancel, methods=["PUT"]),
            Route(app, self._result, methods=["GET"]),
            Route("/{model:path}", self._submit, methods=["POST"]),
        ]

    def presented_key(self, request: Request) -> str | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return key if scheme == "Key" else None

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
        detail: Any = message
        if refusal is Refusal.INVALID:
            detail = [{"loc": ["body", param or ""], "msg": message, "type": "value_error"}]
        body: JSONObject = {"detail": detail}
        if code:
            body["error_type"] = code
        return JSONResponse(body, status or _STATUS[refusal], dict(headers or {}))

    def _urls(self, task: SimTask) -> JSONObject:
        base = f"{self.url}/{task.request['app']}/requests/{task.id}"
        return {
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }

    def _failure(self, task: SimTask) -> tuple[str, str] | None:
        if task.phase is Phase.CANCELLED:
            return _CANCELLED
        if task.phase is Phase.FAILED:
            message = task.script.error_message or "The model could not generate the video"
            return message, str(task.script.error_code or "runner_server_error")
        return None

    def view(self, task: SimTask, word: str) -> JSONObject:
        body: JSONObject = {"status": word, "request_id": task.id, **self._urls(task)}
        if task.phase is Phase.QUEUED:
            ahead = [
                t
                for t in self.tasks.values()
                if t.phase is Phase.QUEUED and t.created_at < task.created_at
            ]
            body["queue_position"] = len(ahead)
            return body
        logs = [{"message": "Loading the model", "level": "INFO", "source": "user"}]
        if task.phase is Phase.RUNNING:
            logs.append({"message": f"Generating: {self.progress(task)}%", "level": "INFO"})
        body["logs"] = logs
        if task.finished_at is not None:
            body["metrics"] = {"inference_time": task.run_s}
        failure = self._failure(task)
        if failure is not None:
            body["error"], body["error_type"] = failure
        return body

    async def _submit(self, request: Request) -> Response:
        model = request.path_params["model"].strip("/")
        parts = model.split("/")
        accepted = await self.accept_create(request, _problem)
        if isinstance(accepted, Response):
            return accepted
        if len(parts) < 2:
            return self.refuse(Refusal.NOT_FOUND, f"Application {model!r} not found")
        key, body = accepted
        task = self.new_task(
            task_id=str(uuid.uuid4()),
            key=key,
            prompt=body.get("prompt", ""),
            model=model,
            request={**body, "app": "/".join(parts[:2])},
            callback_url=request.query_params.get("fal_webhook"),
        )
        answer = {"status": "IN_QUEUE", "request_id": task.id, **self._urls(task)}
        answer["queue_position"] = self.view(task, "IN_QUEUE")["queue_position"]
        return await self.created(task, answer)

    def _find(self, request: Request) -> SimTask | None:
        task = self.lookup(request.path_params["task_id"])
        app = f"{request.path_params['owner']}/{request.path_params['app']}"
        return task if task is not None and task.request["app"] == app else None

    async def _status(self, request: Request) -> Response:
        key = await self.gate(request, Op.GET)
        if isinstance(key, Response):
            return key
        task = self._find(request)
        if task is None:
            return self.not_found(request.path_params["task_id"])
        body = self.read(task)
        if request.query_params.get("logs") not in ("1", "true"):
            body.pop("logs", None)
        return JSONResponse(body, 200 if task.finished_at is not None else 202)

    async def _result(self, request: Request) -> Response:
        key = await self.gate(request, Op.CONTENT)
        if isinstance(key, Response):
            return key
        task = self._find(request)
        if task is None:
            return self.not_found(request.path_params["task_id"])
        if task.finished_at is None:
            return self.refuse(Refusal.CONFLICT, "Request is still in progress")
        if self.now() >= task.finished_at + (self.url_lifetime_s or 0):
            return self.not_found(task.id)
        failure = self._failure(task)
        if failure is not None:
            return self.refuse(Refusal.SERVER_ERROR, failure[0], code=failure[1])
        video = {
            "url": self.file_url(task, "video.mp4"),
            "content_type": "video/mp4",
            "file_name": "output.mp4",
            "file_size": len(self.media.video),
        }
        return JSONResponse({"video": video})

    async def _cancel(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self._find(request)
        if task is None:
            return JSONResponse({"status": "NOT_FOUND"}, 404)
        if task.finished_at is not None:
            return JSONResponse({"status": "ALREADY_COMPLETED"}, 400)
        self.cancel(task)
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, 202)

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"Request {task_id} not found")


def _problem(body: Any) -> str | None:
    """What the Kling 2.0 Master text-to-video schema contradicts in a submit body."""
    if not isinstance(body, dict):
        return "Input should be a valid dictionary"
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return f"Extra inputs are not permitted: {unknown[0]}"
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return "Field required: prompt"
    if "duration" in body and body["duration"] not in ("5", "10"):
        return "Input should be '5' or '10': duration"
    if "aspect_ratio" in body and body["aspect_ratio"] not in _RATIOS:
        return f"Input should be one of {sorted(_RATIOS)}: aspect_ratio"
    return None
