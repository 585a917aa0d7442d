"""Kling AI's developer API (text- and image-to-video), played from its public reference.

Written from Kling's public documentation:

- Common information: https://app.klingai.com/global/dev/document-api/apiReference/commonInfo
  (``Authorization: Bearer <token>``, the token an HS256 JWT with ``iss`` the AccessKey,
  ``exp`` and ``nbf``, signed with the SecretKey; answers ``{code, message, request_id,
  data}``; service codes with their HTTP statuses: 401 1000-1004 authentication (1004 an
  expired token), 429 1100-1102 the account (1102 the resource pack used up), 403 1103, 400
  1200-1203 the parameters, 400 1300/1301 policy and content safety, 429 1302 rate and 1303
  concurrency, 500 5000, 503 5001, 504 5002)
- Text to video: https://app.klingai.com/global/dev/document-api/apiReference/model/textToVideo
  (``POST /v1/videos/text2video``: ``model_name``, ``prompt``, ``negative_prompt``,
  ``cfg_scale``, ``mode``, ``camera_control``, ``aspect_ratio`` 16:9/9:16/1:1, ``duration``
  "5"/"10", ``callback_url``, ``external_task_id``; ``GET /v1/videos/text2video/{task_id}``
  and the list ``GET /v1/videos/text2video?pageNum=&pageSize=``)
- Image to video: https://app.klingai.com/global/dev/document-api/apiReference/model/imageToVideo
  (``POST /v1/videos/image2video``: ``image``, ``image_tail`` and the fields above but
  ``aspect_ratio``; ``GET /v1/videos/image2video/{task_id}``)

A task's ``data``: ``task_id``, ``task_status`` (submitted, processing, succeed, failed),
``task_status_msg``, ``task_info {external_task_id}``, ``created_at``, ``updated_at`` (ms),
``task_result {videos: [{id, url, duration}]}``. Generated videos are cleared after 30 days.
What the pages leave open is listed under "Where the docs are silent" in ``docs/providers.md``
(Kling section).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.simulators.base import JSONObject, SimTask, Simulator
from tests.simulators.script import Op, Phase, Refusal

__all__ = ["KlingSimulator"]

_COMMON = frozenset(
    {
        "model_name",
        "prompt",
        "negative_prompt",
        "cfg_scale",
        "mode",
        "camera_control",
        "duration",
        "callback_url",
        "external_task_id",
    }
)
_FIELDS = {
    "text2video": _COMMON | {"aspect_ratio"},
    "image2video": _COMMON | {"image", "image_tail"},
}
_REFUSALS: Mapping[Refusal, tuple[int, int]] = {
    Refusal.INVALID: (400, 1201),
    Refusal.UNAUTHORIZED: (401, 1000),
    Refusal.QUOTA: (429, 1102),
    Refusal.RATE_LIMITED: (429, 1302),
    Refusal.SERVER_ERROR: (500, 5000),
    Refusal.NOT_FOUND: (400, 1201),  # no code of its own is documented
    Refusal.CONFLICT: (400, 1201),
}


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class KlingSimulator(Simulator):
    """Kling video tasks; keys are ``ACCESS_KEY:SECRET_KEY`` pairs presented as signed tokens.

    A task is read from the endpoint it was made on: an image-to-video id asked of the
    text-to-video endpoint is not found."""

    name = "kling"
    api_root = "/v1"
    words = {
        Phase.QUEUED: "submitted",
        Phase.RUNNING: "processing",
        Phase.SUCCEEDED: "succeed",
        Phase.FAILED: "failed",
    }
    unknown_word = "paused"
    url_lifetime_s = 30 * 24 * 3600.0

    def routes(self) -> list[BaseRoute]:
        root = self.api_root + "/videos"
        return [
            Route(root + "/{endpoint}", self._create, methods=["POST"]),
            Route(root + "/{endpoint}", self._list, methods=["GET"]),
            Route(root + "/{endpoint}/{task_id}", self._get, methods=["GET"]),
        ]

    def presented_key(self, request: Request) -> str | None:
        """The ``ACCESS:SECRET`` key whose secret signed the bearer token, if the token is a
        well-formed HS256 JWT within its ``nbf``-``exp`` window."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        parts = token.split(".")
        if scheme.lower() != "bearer" or len(parts) != 3:
            return None
        try:
            header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            return None
        if not isinstance(claims, dict):
            return None
        for key in self.valid_keys:
            access, _, secret = key.partition(":")
            if claims.get("iss") != access:
                continue
            signing = f"{parts[0]}.{parts[1]}".encode()
            expected = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
            now = self.now()
            exp, nbf = claims.get("exp"), claims.get("nbf", 0)
            if (
                hmac.compare_digest(signature, expected)
                and isinstance(exp, int)
                and isinstance(nbf, int)
                and nbf <= now < exp
            ):
                return key
        return None

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
        body = {
            "code": int(code) if code else default_code,
            "message": message,
            "request_id": str(uuid.uuid4()),
        }
        return JSONResponse(body, status or default_status, dict(headers or {}))

    def _data(self, task: SimTask, word: str) -> JSONObject:
        data: JSONObject = {
            "task_id": task.id,
            "task_status": word,
            "task_info": {},
            "created_at": int(task.created_at * 1000),
            "updated_at": int((task.finished_at or task.updated_at) * 1000),
        }
        external = task.request.get("external_task_id")
        if external:
            data["task_info"] = {"external_task_id": external}
        if task.phase is Phase.SUCCEEDED:
            duration = task.request.get("duration", "5")
            video = {"id": str(uuid.uuid4()), "url": self.file_url(task, "video.mp4")}
            data["task_result"] = {"videos": [{**video, "duration": duration}]}
        elif task.phase is Phase.FAILED:
            data["task_status_msg"] = task.script.error_message or "generation failed"
        return data

    def view(self, task: SimTask, word: str) -> JSONObject:
        return {
            "code": 0,
            "message": "SUCCEED",
            "request_id": str(uuid.uuid4()),
            "data": self._data(task, word),
        }

    async def _create(self, request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        if endpoint not in _FIELDS:
            return self.refuse(Refusal.NOT_FOUND, f"no endpoint {endpoint}", status=404)
        accepted = await self.accept_create(request, lambda body: self._problem(endpoint, body))
        if isinstance(accepted, Response):
            return accepted
        key, body = accepted
        if self._reused_external_id(key, body):
            return self.refuse(Refusal.INVALID, "external_task_id must be unique")
        task = self.new_task(
            task_id=str(866168216002236456 + len(self.tasks)),
            key=key,
            prompt=body.get("prompt", ""),
            model=body.get("model_name", "kling-v1"),
            request={**body, "_endpoint": endpoint},
        )
        return await self.created(
            task,
            {
                "code": 0,
                "message": "SUCCEED",
                "request_id": str(uuid.uuid4()),
                "data": {
                    name: value
                    for name, value in self._data(task, "submitted").items()
                    if name in ("task_id", "task_status", "task_info", "created_at", "updated_at")
                },
            },
        )

    async def _get(self, request: Request) -> Response:
        key = await self.gate(request, Op.GET)
        if isinstance(key, Response):
            return key
        task_id = request.path_params["task_id"]
        task = self.lookup(task_id)
        if task is None or task.request.get("_endpoint") != request.path_params["endpoint"]:
            return self.not_found(task_id)
        return JSONResponse(self.read(task))

    async def _list(self, request: Request) -> Response:
        key = await self.gate(request, Op.LIST)
        if isinstance(key, Response):
            return key
        size = int(request.query_params.get("pageSize", "30"))
        endpoint = request.path_params["endpoint"]
        tasks = [t for t in self.tasks.values() if t.request.get("_endpoint") == endpoint]
        tasks.sort(key=lambda t: t.created_at, reverse=True)
        data = [self._data(t, self.words[t.phase]) for t in tasks[:size] if t.phase in self.words]
        return JSONResponse(
            {"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data}
        )

    def not_found(self, task_id: str) -> Response:
        return self.refuse(Refusal.NOT_FOUND, f"task {task_id} not found")

    def _problem(self, endpoint: str, body: Any) -> str | None:
        """What the reference contradicts in a create body, or None."""
        if not isinstance(body, dict):
            return "the body must be a JSON object"
        unknown = sorted(set(body) - _FIELDS[endpoint])
        if unknown:
            return f"unknown field {unknown[0]}"
        if "duration" in body and body["duration"] not in ("5", "10"):
            return "duration must be the string 5 or 10"
        if "aspect_ratio" in body and body["aspect_ratio"] not in ("16:9", "9:16", "1:1"):
            return "aspect_ratio must be 16:9, 9:16 or 1:1"
        if endpoint == "text2video" and not body.get("prompt"):
            return "prompt is required"
        if endpoint == "image2video" and not body.get("image") and not body.get("image_tail"):
            return "image is required"
        return None

    def _reused_external_id(self, key: str, body: JSONObject) -> bool:
        """Whether this key already made a task with the body's ``external_task_id``."""
        external = body.get("external_task_id")
        return bool(external) and any(
            t.key == key and t.request.get("external_task_id") == external
            for t in self.tasks.values()
        )
