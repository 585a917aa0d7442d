"""OpenAI Videos API (``/v1/videos``), the contract LiteLLM, Bifrost, new-api and vidtask follow.

Written from the public API reference and guide:

- Videos reference: https://developers.openai.com/api/reference/resources/videos (create,
  retrieve, list, delete, the Video object) and, for the content download,
  https://developers.openai.com/api/reference/resources/videos/methods/download_content
  (``variant=video|thumbnail|spritesheet``, bearer key)
- The OpenAPI description: github.com/openai/openai-openapi ``openapi.yaml`` (``/videos*``,
  ``VideoResource``, ``CreateVideoMultipartBody`` / ``CreateVideoJsonBody``, ``ErrorResponse``)
- Guide: https://developers.openai.com/api/docs/guides/video-generation (sora-2-pro also makes
  1920x1080 / 1080x1920 and 16 s / 20 s videos)
- Error codes: https://developers.openai.com/docs/guides/error-codes (401 incorrect key, 429
  rate limit, 429 "exceeded your current quota" = ``insufficient_quota``)

The official Python SDK always sends the create as ``multipart/form-data`` (text fields only
when there is no file; nested objects as ``input_reference[image_url]``), so both encodings are
accepted. What the pages leave open is listed under "Where the docs are silent" in
``docs/providers.md`` (OpenAI Videos section).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Literal, Unpack

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator, SimulatorOptions, json_body
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["OpenAIVideosSimulator"]

_SECONDS = ("4", "8", "12", "16", "20")
_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024", "1920x1080", "1080x1920")

_REFUSALS: Mapping[Refusal, tuple[int, str, str | None]] = {
    Refusal.INVALID: (400, "invalid_request_error", None),
    Refusal.UNAUTHORIZED: (401, "invalid_request_error", "invalid_api_key"),
    Refusal.QUOTA: (429, "insufficient_quota", "insufficient_quota"),
    Refusal.RATE_LIMITED: (429, "requests", "rate_limit_exceeded"),
    Refusal.SERVER_ERROR: (500, "server_error", None),
    Refusal.NOT_FOUND: (404, "invalid_request_error", None),
    Refusal.CONFLICT: (409, "invalid_request_error", None),
}


class _Invalid(Exception):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class OpenAIVideosSimulator(Simulator):
    """Videos under ``/v1/videos``.

    ``delete_unfinished``: what DELETE does to a queued or in-progress video, which the
    reference leaves open ("delete a completed or failed video"): ``"refuse"`` answers 409,
    ``"cancel"`` stops and deletes it. ``asset_lifetime_s``: sets ``expires_at`` that long
    after completion (the content download then answers 404); None leaves it null."""

    name = "openai-videos"
    api_root = "/v1"
    words = {
        Phase.QUEUED: "queued",
        Phase.RUNNING: "in_progress",
        Phase.SUCCEEDED: "completed",
        Phase.FAILED: "failed",
    }

    def __init__(
        self,
        *,
        delete_unfinished: Literal["refuse", "cancel"] = "refuse",
        asset_lifetime_s: float | None = None,
        **options: Unpack[SimulatorOptions],
    ) -> None:
        self.delete_unfinished = delete_unfinished
        self.url_lifetime_s = asset_lifetime_s
        super().__init__(**options)

    def routes(self) -> list[BaseRoute]:
        videos = self.api_root + "/videos"
        return [
            Route(videos, self._create, methods=["POST"]),
            Route(videos, self._list, methods=["GET"]),
            Route(videos + "/{video_id}", self._get, methods=["GET"]),
            Route(videos + "/{video_id}", self._delete, methods=["DELETE"]),
            Route(videos + "/{video_id}/content", self._content, methods=["GET"]),
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
        expires = self.assets_expire_at(task)
        error = None
        if task.phase is Phase.FAILED:
            error = {
                "code": str(task.script.error_code or "video_generation_failed"),
                "message": task.script.error_message or "the video could not be generated",
            }
        completed = task.phase in (Phase.SUCCEEDED, Phase.FAILED)
        return {
            "id": task.id,
            "object": "video",
            "model": task.model,
            "status": word,
            "progress": self.progress(task),
            "created_at": int(task.created_at),
            "completed_at": int(task.updated_at) if completed else None,
            "expires_at": None if expires is None else int(expires),
            "prompt": task.prompt,
            "size": task.request["size"],
            "seconds": task.request["seconds"],
            "remixed_from_video_id": None,
            "error": error,
        }

    # -- routes --------------------------------------------------------------------------------

    async def _create(self, request: Request) -> Response:
        key = await self.gate(request, Op.CREATE)
        if isinstance(key, Response):
            return key
        try:
            asked = await _create_body(request)
        except _Invalid as exc:
            return self.refuse(Refusal.INVALID, str(exc), param=exc.param)
        task = self.new_task(
            task_id=f"video_{secrets.token_hex(16)}",
            key=key,
            prompt=asked["prompt"],
            model=asked["model"],
            request=asked,
        )
        return await self.created(task, self.view(task, self.words[Phase.QUEUED]))

    async def _get(self, request: Request) -> Response:
        return await self.answer_status(request, request.path_params["video_id"])

    async def _list(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        query = request.query_params
        raw_limit = query.get("limit", "20")
        limit = int(raw_limit) if raw_limit.isdigit() else -1
        if not 0 <= limit <= 100:
            return self.refuse(Refusal.INVALID, "limit must be in [0, 100]", param="limit")
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            return self.refuse(Refusal.INVALID, "order must be asc or desc", param="order")
        live = [task for task in map(self.lookup, list(self.tasks)) if task is not None]
        live.sort(key=lambda task: task.created_at, reverse=order == "desc")
        after = query.get("after")
        if after is not None:
            ids = [task.id for task in live]
            live = live[ids.index(after) + 1 :] if after in ids else []
        page = live[:limit]
        data = [self.read(task) for task in page]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(live) > limit,
            }
        )

    async def _delete(self, request: Request) -> Response:
        key = await self.gate(request, Op.DELETE)
        if isinstance(key, Response):
            return key
        task = self.lookup(request.path_params["video_id"])
        if task is None:
            return self.not_found(request.path_params["video_id"])
        if task.phase in (Phase.QUEUED, Phase.RUNNING):
            if self.delete_unfinished == "refuse":
                return self.refuse(
                    Refusal.CONFLICT,
                    f"only a completed or failed video can be deleted; this one is "
                    f"{self.words[task.phase]}",
                )
            self.cancel(task)
        self.forget(task)
        return JSONResponse({"id": task.id, "object": "video.deleted", "deleted": True})

    async def _content(self, request: Request) -> Response:
        key = await self.gate(request, Op.CONTENT)
        if isinstance(key, Response):
            return key
        video_id = request.path_params["video_id"]
        task = self.lookup(video_id)
        if task is None:
            return self.not_found(video_id)
        variant = request.query_params.get("variant", "video")
        files = {
            "video": (self.media.video, "video/mp4"),
            "thumbnail": (self.media.thumbnail, "image/webp"),
            "spritesheet": (self.media.spritesheet, "image/webp"),
        }
        if variant not in files:
            return self.refuse(
                Refusal.INVALID, "variant must be video, thumbnail or spritesheet", param="variant"
            )
        expires = self.assets_expire_at(task)
        if task.phase is not Phase.SUCCEEDED or (expires is not None and self.now() >= expires):
            return self._no_content(video_id)
        data, media_type = files[variant]
        return self.result(
            request, task, data, media_type, not_found=lambda: self._no_content(video_id)
        )

    def not_found(self, video_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"video {video_id} not found", param="video_id")

    def _no_content(self, video_id: str) -> Response:
        return self.refuse(
            Refusal.NOT_FOUND, f"video {video_id} has no downloadable content", param="video_id"
        )


async def _create_body(request: Request) -> JSONObject:
    """The create parameters from a JSON or multipart body, validated; defaults filled in."""
    fields: JSONObject
    reference: Any = None
    upload: str | None = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        fields = {}
        nested: dict[str, str] = {}
        async with request.form() as form:  # closes the uploaded files' temporary copies
            for name, value in form.multi_items():
                if name.startswith("input_reference[") and name.endswith("]"):
                    nested[name[len("input_reference[") : -1]] = str(value)
                elif name == "input_reference" and isinstance(value, UploadFile):
                    upload = value.filename or "upload"
                elif isinstance(value, str):
                    fields[name] = value
                else:
                    raise _Invalid(name, f"{name} must be a text field")
        if nested:
            reference = nested
    else:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise _Invalid("", "the body must be a JSON object or multipart/form-data")
        fields = dict(body)
        reference = fields.pop("input_reference", None)
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not 1 <= len(prompt) <= 32000:
        raise _Invalid("prompt", "prompt is required: a string of 1 to 32000 characters")
    model = fields.get("model", "sora-2")
    if not isinstance(model, str) or not model:
        raise _Invalid("model", "model must be a string")
    seconds = fields.get("seconds", "4")
    if seconds not in _SECONDS:
        raise _Invalid("seconds", f"seconds must be one of {', '.join(_SECONDS)} (a string)")
    size = fields.get("size", "720x1280")
    if size not in _SIZES:
        raise _Invalid("size", f"size must be one of {', '.join(_SIZES)}")
    asked: JSONObject = {"prompt": prompt, "model": model, "seconds": seconds, "size": size}
    if upload is not None:
        asked["input_reference"] = {"file": upload}
    elif reference is not None:
        if (
            not isinstance(reference, dict)
            or len({"image_url", "file_id"} & {k for k, v in reference.items() if v}) != 1
            or set(reference) - {"image_url", "file_id"}
        ):
            raise _Invalid("input_reference", "provide exactly one of image_url or file_id")
        asked["input_reference"] = dict(reference)
    return asked
