"""Google Veo on the Gemini API, played from its public documentation.

Written from Google's public documentation and SDK:

- Veo guide: https://ai.google.dev/gemini-api/docs/video (``POST
  /v1beta/models/{model}:predictLongRunning`` with ``instances[0].prompt`` and ``parameters``
  ``aspectRatio`` 16:9 or 9:16, ``resolution`` 720p (default) or 1080p, ``durationSeconds``,
  ``negativePrompt``, ``personGeneration``; it answers a long-running operation whose ``name`` is
  polled with ``GET /v1beta/{name}`` until ``done``; the video is at
  ``response.generateVideoResponse.generatedSamples[].video.uri`` and is downloaded with the
  same ``x-goog-api-key`` header; generated videos are kept on the server for two days)
- Models: https://ai.google.dev/api/models (``GET /v1beta/models``, ``pageSize``)
- Errors: https://ai.google.dev/gemini-api/docs/troubleshooting (``{"error": {code, message,
  status}}``; 400 INVALID_ARGUMENT, 403 PERMISSION_DENIED for a key without permission, 404
  NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE)
- SDK: github.com/googleapis/python-genai ``google/genai/models.py`` (the Gemini API wire names:
  ``sampleCount``, ``durationSeconds``, ``aspectRatio``, ``resolution``, ``personGeneration``,
  ``negativePrompt``, ``enhancePrompt``; ``instances[0]`` ``image``, ``lastFrame``,
  ``referenceImages``, ``video`` with images as ``bytesBase64Encoded`` + ``mimeType``; no
  ``seed`` on the Gemini API) and ``google/genai/files.py`` (``files/{id}:download?alt=media``)

An operation has no status word: it is ``{"name"}`` while it runs, then ``done: true`` with a
``response`` or an ``error``. Nothing cancels one. What the pages leave open is listed under
"Where the docs are silent" in ``docs/providers.md`` (Veo section).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["VeoSimulator"]

_PARAMETERS = frozenset(
    {
        "aspectRatio",
        "durationSeconds",
        "resolution",
        "negativePrompt",
        "personGeneration",
        "sampleCount",
        "enhancePrompt",
    }
)
_INSTANCE = frozenset({"prompt", "image", "lastFrame", "referenceImages", "video"})
#: HTTP status and ``google.rpc`` status word of each refusal.
_STATUS: Mapping[Refusal, tuple[int, str]] = {
    Refusal.INVALID: (400, "INVALID_ARGUMENT"),
    Refusal.UNAUTHORIZED: (403, "PERMISSION_DENIED"),
    Refusal.QUOTA: (429, "RESOURCE_EXHAUSTED"),
    Refusal.RATE_LIMITED: (429, "RESOURCE_EXHAUSTED"),
    Refusal.SERVER_ERROR: (500, "INTERNAL"),
    Refusal.NOT_FOUND: (404, "NOT_FOUND"),
    Refusal.CONFLICT: (400, "FAILED_PRECONDITION"),
}
_WORDS = {
    404: "NOT_FOUND",
    500: "INTERNAL",
    502: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class VeoSimulator(Simulator):
    """Veo operations: ``done`` and ``error`` only, results downloaded with the key."""

    name = "veo"
    api_root = "/v1beta"
    #: Operations have no words; these name the phases for the base machinery only.
    words = {
        Phase.QUEUED: "running",
        Phase.RUNNING: "running",
        Phase.SUCCEEDED: "done",
        Phase.FAILED: "error",
    }
    url_lifetime_s = 2 * 24 * 3600.0  # "stored on the server for 2 days"

    def routes(self) -> list[BaseRoute]:
        root = self.api_root
        return [
            Route(root + "/models/{model}:predictLongRunning", self._create, methods=["POST"]),
            Route(root + "/models/{model}/operations/{op}", self._get, methods=["GET"]),
            Route(root + "/models", self._models, methods=["GET"]),
            Route(root + "/files/{token}:download", self._download, methods=["GET"]),
        ]

    def presented_key(self, request: Request) -> str | None:
        """The ``x-goog-api-key`` header (or the ``key`` query parameter)."""
        return request.headers.get("x-goog-api-key") or request.query_params.get("key")

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
        http, word = _STATUS[refusal]
        if status is not None:
            http, word = status, _WORDS.get(status, word)
        body = {"error": {"code": http, "message": message, "status": code or word}}
        return JSONResponse(body, http, dict(headers or {}))

    def view(self, task: SimTask, word: str) -> JSONObject:
        body: JSONObject = {"name": task.id}
        if task.phase is Phase.SUCCEEDED:
            uri = f"{self.base_url}/files/{task.file_token}:download?alt=media"
            samples = [{"video": {"uri": uri}}]
            body["done"] = True
            body["response"] = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
                "PredictLongRunningResponse",
                "generateVideoResponse": {"generatedSamples": samples},
            }
        elif task.phase is Phase.FAILED:
            body["done"] = True
            code = task.script.error_code
            body["error"] = {
                "code": code if isinstance(code, int) else 13,  # 13: google.rpc INTERNAL
                "message": task.script.error_message or "The video could not be generated.",
            }
        return body

    async def _create(self, request: Request) -> Response:
        accepted = await self.accept_create(request, _problem)
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        model = request.path_params["model"]
        if not model.startswith("veo-"):
            return self.refuse(Refusal.NOT_FOUND, f"models/{model} is not found")
        name = f"models/{model}/operations/{secrets.token_hex(6)}"
        instance = body["instances"][0]
        task = self.new_task(
            task_id=name, key=key, prompt=instance.get("prompt", ""), model=model, request=body
        )
        return await self.created(task, {"name": name})

    async def _get(self, request: Request) -> Response:
        name = f"models/{request.path_params['model']}/operations/{request.path_params['op']}"
        return await self.answer_status(request, name)

    async def _models(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        model = {"name": "models/veo-3.0-generate-001", "displayName": "Veo 3"}
        return JSONResponse({"models": [model], "nextPageToken": ""})

    async def _download(self, request: Request) -> Response:
        key = await self.gate(request, Op.CONTENT)
        if isinstance(key, Response):
            return key
        task = next(
            (t for t in self.tasks.values() if t.file_token == request.path_params["token"]), None
        )
        if task is None:
            return self.refuse(Refusal.NOT_FOUND, "File not found.")
        self.advance(task)
        expires = self.assets_expire_at(task)
        if task.phase is not Phase.SUCCEEDED or (expires is not None and self.now() >= expires):
            return self.refuse(Refusal.NOT_FOUND, "File not found.")
        return self.result(
            request,
            task,
            self.media.video,
            "video/mp4",
            not_found=lambda: self.refuse(Refusal.NOT_FOUND, "File not found."),
            ranges=True,
        )

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"Operation {task_id} not found.")


def _problem(body: Any) -> str | None:
    """What the documentation contradicts in a create body, or None."""
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    unknown = sorted(set(body) - {"instances", "parameters"})
    if unknown:
        return f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.'
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        return "instances must hold one instance"
    instance = instances[0]
    extra = sorted(set(instance) - _INSTANCE)
    if extra:
        return f"`{extra[0]}` isn't supported by this model."
    if not instance.get("prompt") and "image" not in instance:
        return "A prompt or an image is required."
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        return "parameters must be an object"
    extra = sorted(set(parameters) - _PARAMETERS)
    if extra:
        return f"`{extra[0]}` isn't supported by this model."
    if parameters.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
        return "aspectRatio must be 16:9 or 9:16"
    if parameters.get("resolution", "720p") not in ("720p", "1080p"):
        return "resolution must be 720p or 1080p"
    seconds = parameters.get("durationSeconds", 8)
    if type(seconds) is not int or seconds not in (4, 5, 6, 7, 8):
        return "durationSeconds is out of range"
    return None
