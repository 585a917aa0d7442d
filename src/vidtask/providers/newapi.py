"""Any New API upstream (``/v1/video/generations``).

Documented at https://docs.newapi.pro/en/docs/api/ai-model/videos/createvideogeneration and
https://docs.newapi.pro/en/docs/api/ai-model/videos/getvideogeneration. New API's own code
answers the GET in another envelope (``{"code": "success", "data": {...}}``); vidtask follows the
documentation, and docs/providers.md records the difference.
"""

from __future__ import annotations

from typing import Any

from vidtask.core.upstream import phase_of
from vidtask.providers.base import (
    Call,
    KindDefaults,
    Refusal,
    RelayInput,
    UpstreamState,
    default_refusal,
    error_fields,
    first_id,
)

__all__ = ["NewAPI"]

PATH = "/video/generations"


class NewAPI(KindDefaults):
    kind = "newapi"
    can_cancel = False  # no cancel or delete is documented
    reports_progress = False
    calls_back = False

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model": model, "prompt": request.prompt or ""}
        if request.first_frame:
            body["image"] = request.first_frame
        if request.seconds is not None:
            body["duration"] = request.seconds
        if request.width and request.height:
            body["width"], body["height"] = request.width, request.height
        if request.seed is not None:
            body["seed"] = request.seed
        return Call("POST", PATH, json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "task_id", "id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"{PATH}/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=body.get("url") or None,
            error=str(message) if message else None,
        )

    def check(self) -> Call:
        """An authenticated read: a task id that cannot exist (New API documents no list), so
        404 means the key works and 401 that it does not."""
        return Call("GET", f"{PATH}/vidtask-key-check")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = error_fields(body)
        return default_refusal(status_code, code, message)
