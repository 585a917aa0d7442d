"""Alibaba Cloud Model Studio (DashScope) Wan video generation.

Documented at https://www.alibabacloud.com/help/en/model-studio/text-to-video-api-reference
and https://www.alibabacloud.com/help/en/model-studio/image-to-video-api-reference (create,
``POST /api/v1/services/aigc/video-generation/video-synthesis`` with ``X-DashScope-Async:
enable``), and https://www.alibabacloud.com/help/en/model-studio/manage-asynchronous-tasks
(``GET /api/v1/tasks/{task_id}``, the batch list, ``POST /api/v1/tasks/{task_id}/cancel`` for a
``PENDING`` task). ``base_url`` is the API root, e.g. ``https://dashscope-intl.aliyuncs.com/api/v1``.
docs/providers.md has the mapping.
"""

from __future__ import annotations

from typing import Any

from vidtask.core.upstream import phase_of
from vidtask.providers.base import (
    Call,
    KindDefaults,
    Refusal,
    RelayInput,
    Trouble,
    UpstreamState,
    default_refusal,
)

__all__ = ["DashScope"]

CREATE = "/services/aigc/video-generation/video-synthesis"
#: Asynchronous invocation, the only way the video models are called over HTTP.
ASYNC = {"X-DashScope-Async": "enable"}
#: ``parameters.resolution`` values of the image-to-video models, by the short side.
_RESOLUTIONS = {480: "480P", 720: "720P", 1080: "1080P"}
#: Error codes that mean the account (so the key) cannot pay.
_KEY_CODES = frozenset({"Arrearage", "InvalidApiKey", "AccessDenied.Unpurchased"})


def _fields(body: Any) -> tuple[str, str]:
    """``(code, message)`` of DashScope's flat error envelope ``{code, message, request_id}``."""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("code") or ""), str(body.get("message") or "")


class DashScope(KindDefaults):
    kind = "dashscope"
    can_cancel = True  # a PENDING task only
    reports_progress = False
    calls_back = False
    #: Reference images belong to other Wan models (reference-to-video), not this call.
    refuses = frozenset({"reference_images"})

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        given: dict[str, Any] = {}
        if request.prompt:
            given["prompt"] = request.prompt
        if request.last_frame:  # first-and-last-frame models
            if request.first_frame:
                given["first_frame_url"] = request.first_frame
            given["last_frame_url"] = request.last_frame
        elif request.first_frame:  # image-to-video models
            given["img_url"] = request.first_frame
        parameters: dict[str, Any] = {}
        if request.width and request.height:
            if request.first_frame or request.last_frame:
                short = min(request.width, request.height)
                nearest = min(_RESOLUTIONS, key=lambda r: abs(r - short))
                parameters["resolution"] = _RESOLUTIONS[nearest]
            else:  # text-to-video takes the frame size, "width*height"
                parameters["size"] = f"{request.width}*{request.height}"
        if request.seconds is not None:
            parameters["duration"] = request.seconds
        if request.seed is not None:
            parameters["seed"] = request.seed
        body: dict[str, Any] = {"model": model, "input": given}
        if parameters:
            body["parameters"] = parameters
        return Call("POST", CREATE, json=body, headers=ASYNC)

    def created_id(self, body: Any) -> str:
        output = body.get("output") if isinstance(body, dict) else None
        task_id = output.get("task_id") if isinstance(output, dict) else None
        if isinstance(task_id, str) and task_id:
            return task_id
        raise ValueError("the create answer has no output.task_id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/tasks/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        output = body.get("output") if isinstance(body.get("output"), dict) else {}
        word = output.get("task_status")
        phase = phase_of(self.kind, provider, word)
        code, message = _fields(output)
        error = f"{code}: {message}" if code and message else (code or message or None)
        if word == "UNKNOWN":
            error = f"task {upstream_id} is unknown upstream, or older than the 24 h it is kept"
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=output.get("video_url") or None,
            error=error,
            extra={k: usage[k] for k in ("video_duration", "video_ratio") if k in usage},
        )

    def check(self) -> Call:
        """An authenticated read that works with any valid key: the newest task, if any."""
        return Call("GET", "/tasks?page_no=1&page_size=1")

    def cancel(self, upstream_id: str) -> Call | None:
        return Call("POST", f"/tasks/{upstream_id}/cancel")

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = _fields(body)
        refusal = default_refusal(status_code, code, message)
        if code in _KEY_CODES:  # an account in arrears or a key it does not take
            return Refusal(Trouble.KEY, refusal.message)
        if code.startswith("Throttling"):
            return Refusal(Trouble.RETRY, refusal.message)
        return refusal
