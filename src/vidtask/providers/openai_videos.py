"""Any OpenAI-videos-compatible upstream (``/v1/videos``): LiteLLM, Bifrost, new-api, another
vidtask.

Documented by OpenAI's API reference, https://developers.openai.com/api/reference/resources/videos,
and its OpenAPI specification (github.com/openai/openai-openapi, paths ``/videos``); LiteLLM
follows it (https://docs.litellm.ai/docs/videos). docs/providers.md has the mapping.
"""

from __future__ import annotations

import math
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
    error_fields,
    first_id,
)

__all__ = ["OpenAIVideos"]

#: The ``seconds`` values and the sizes the API reference lists.
_SECONDS = (4, 8, 12)
_SIZES = ((720, 1280), (1280, 720), (1024, 1792), (1792, 1024))


def _nearest_size(width: int, height: int) -> str:
    """The listed size of the same orientation whose area is nearest (``WxH``)."""
    portrait = height > width

    def distance(size: tuple[int, int]) -> tuple[bool, float]:
        w, h = size
        return (h > w) != portrait, abs(math.log((w * h) / (width * height)))

    w, h = min(_SIZES, key=distance)
    return f"{w}x{h}"


class OpenAIVideos(KindDefaults):
    kind = "openai_videos"
    #: DELETE removes a completed or failed video only; nothing stops a queued one.
    can_cancel = False
    reports_progress = True
    calls_back = False

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model": model, "prompt": request.prompt or ""}
        seconds = request.seconds
        if seconds is not None:  # the API takes "4", "8" or "12": the nearest
            body["seconds"] = str(min(_SECONDS, key=lambda n: (abs(n - seconds), n)))
        if request.width and request.height:
            body["size"] = _nearest_size(request.width, request.height)
        if request.first_frame:
            body["input_reference"] = {"image_url": request.first_frame}
        return Call("POST", "/videos", json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/videos/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        progress = body.get("progress")
        _, message = error_fields({"error": body.get("error")})
        return UpstreamState(
            word=str(word),
            phase=phase,
            progress=float(progress) if isinstance(progress, int | float) else None,
            video_url=f"/videos/{upstream_id}/content?variant=video",
            video_needs_key=True,
            error=message or None,
        )

    def check(self) -> Call:
        """An authenticated read that works with any valid key: the newest video, if any."""
        return Call("GET", "/videos?limit=1")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = error_fields(body)
        refusal = default_refusal(status_code, code, message)
        if code == "insufficient_quota":  # OpenAI's 429 for a key with no money left
            return Refusal(Trouble.KEY, refusal.message)
        return refusal
