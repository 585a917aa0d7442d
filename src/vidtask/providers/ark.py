"""Volcengine Ark / BytePlus ModelArk video generation (Seedance).

Documented at https://docs.byteplus.com/en/docs/ModelArk/1520757 (create),
https://docs.byteplus.com/en/docs/ModelArk/1521309 (retrieve) and
https://docs.byteplus.com/en/docs/ModelArk/1521720 (cancel or delete); the Volcengine pages use
the same ids under https://www.volcengine.com/docs/82379/. docs/providers.md has the mapping.
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
    error_fields,
    first_id,
)

__all__ = ["Ark"]

TASKS = "/contents/generations/tasks"
#: ``ratio`` values the create page lists, by width / height.
_RATIOS = {"16:9": 16 / 9, "4:3": 4 / 3, "1:1": 1.0, "3:4": 3 / 4, "9:16": 9 / 16, "21:9": 21 / 9}
_RESOLUTIONS = (480, 720, 1080)


class Ark(KindDefaults):
    kind = "ark"
    can_cancel = True  # a queued task; a running one cannot be stopped
    reports_progress = False
    calls_back = True

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        content: list[dict[str, Any]] = []
        if request.prompt:
            content.append({"type": "text", "text": request.prompt})
        frames = (("first_frame", request.first_frame), ("last_frame", request.last_frame))
        for role, url in frames:
            if url:
                content.append({"type": "image_url", "image_url": {"url": url}, "role": role})
        for url in request.reference_images:
            content.append(
                {"type": "image_url", "image_url": {"url": url}, "role": "reference_image"}
            )
        body: dict[str, Any] = {"model": model, "content": content, "return_last_frame": True}
        if request.width and request.height:
            short = min(request.width, request.height)
            body["resolution"] = f"{min(_RESOLUTIONS, key=lambda r: abs(r - short))}p"
            shape = request.width / request.height
            body["ratio"] = min(_RATIOS, key=lambda name: abs(_RATIOS[name] - shape))
        if request.seconds is not None:
            body["duration"] = request.seconds
        if request.seed is not None:
            body["seed"] = request.seed
        if callback_url is not None:
            body["callback_url"] = callback_url
        return Call("POST", TASKS, json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"{TASKS}/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        content = body.get("content") if isinstance(body.get("content"), dict) else {}
        _, message = error_fields({"error": body.get("error")})
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=content.get("video_url"),
            last_frame_url=content.get("last_frame_url"),
            error=message or None,
            extra={k: body[k] for k in ("seed", "resolution", "ratio", "duration") if k in body},
        )

    def check(self) -> Call:
        """An authenticated read that works with any valid key: the newest task, if any."""
        return Call("GET", f"{TASKS}?page_num=1&page_size=1")

    def cancel(self, upstream_id: str) -> Call | None:
        return Call("DELETE", f"{TASKS}/{upstream_id}")

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = error_fields(body)
        refusal = default_refusal(status_code, code, message)
        if code == "AccountOverdueError":  # out of credit: this key is done for now
            return Refusal(Trouble.KEY, refusal.message)
        return refusal
