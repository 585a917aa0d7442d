"""Vidu (Shengshu) video generation: viduq1, vidu2.0, vidu1.5 and the later q-models.

Documented at https://platform.vidu.com/docs/text-to-video (``POST /ent/v2/text2video``),
https://platform.vidu.com/docs/image-to-video (``POST /ent/v2/img2video``, one start frame),
https://platform.vidu.com/docs/start-end-to-video (``POST /ent/v2/start-end2video``, start and
end frame), https://platform.vidu.com/docs/reference-to-video (``POST /ent/v2/reference2video``,
1-7 subject images); every create answers ``task_id`` and ``state``.
https://platform.vidu.com/docs/get-generation (``GET /ent/v2/tasks/{id}/creations``: ``state``
created, queueing, processing, success, failed; ``err_code``; ``creations[].url`` valid for a
limited time), https://platform.vidu.com/docs/cancel-generation (``POST /ent/v2/tasks/{id}/cancel``),
https://platform.vidu.com/docs/get-account-info (``GET /ent/v2/credits``) and
https://platform.vidu.com/docs/error-code (HTTP status + ``reason`` code). Every request carries
``Authorization: Token <key>``. ``base_url`` is the API root, e.g. ``https://api.vidu.com/ent/v2``.
docs/providers.md has the mapping.
"""

from __future__ import annotations

from typing import Any

from vidtask.core.upstream import Phase, phase_of
from vidtask.providers.base import (
    Call,
    KindDefaults,
    Refusal,
    RelayInput,
    Trouble,
    UpstreamState,
    default_refusal,
    first_id,
)

__all__ = ["Vidu"]

#: ``aspect_ratio`` values every documented model takes (3:4 and 4:3 only the q2/q3 models).
_RATIOS = ((16, 9), (9, 16), (1, 1))
#: ``resolution`` values of viduq1, vidu2.0 and vidu1.5 (by the short side).
_RESOLUTIONS = (360, 720, 1080)
#: ``duration`` values per model where the references list them; other models get the seconds.
_SECONDS: dict[str, tuple[int, ...]] = {
    "viduq1": (5,),
    "viduq1-classic": (5,),
    "vidu2.0": (4, 8),
    "vidu1.5": (4, 8),
}


def _ratio(width: int, height: int) -> str:
    best = min(_RATIOS, key=lambda r: abs(r[0] / r[1] - width / height))
    return f"{best[0]}:{best[1]}"


def _resolution(width: int, height: int) -> str:
    short = min(width, height)
    return f"{min(_RESOLUTIONS, key=lambda p: (abs(p - short), p))}p"


def _fields(body: Any) -> tuple[str, str]:
    """``(reason, message)`` of Vidu's error answer ``{code, reason, message, metadata}``."""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("reason") or ""), str(body.get("message") or "")


class Vidu(KindDefaults):
    kind = "vidu"
    can_cancel = True
    reports_progress = False  # the task answer has no progress
    calls_back = True  # ``callback_url`` on every create: processing, success, failed

    def auth(self, secret: str) -> dict[str, str]:
        """``Authorization: Token <key>`` (not Bearer), as every Vidu page shows."""
        return {"Authorization": f"Token {secret}"}

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model": model}
        if request.prompt:
            body["prompt"] = request.prompt
        path, images = self._route(request)
        if images:
            body["images"] = images
        if request.width and request.height:
            body["resolution"] = _resolution(request.width, request.height)
            if path in ("/text2video", "/reference2video"):  # the image sets the shape otherwise
                body["aspect_ratio"] = _ratio(request.width, request.height)
        seconds = request.seconds
        if seconds is not None:
            listed = _SECONDS.get(model)
            body["duration"] = (
                min(listed, key=lambda n: (abs(n - seconds), n)) if listed else seconds
            )
        if request.seed is not None:
            body["seed"] = request.seed
        if callback_url:
            body["callback_url"] = callback_url
        return Call("POST", path, json=body)

    @staticmethod
    def _route(request: RelayInput) -> tuple[str, list[str]]:
        """The create endpoint the inputs call for, and its ``images``. Inputs no endpoint
        takes together (reference images with frames, a last frame alone) are sent as they are,
        so that Vidu refuses them (400, e.g. ``FieldItemCountOutOfRange``) rather than vidtask
        dropping one silently."""
        frames = [uri for uri in (request.first_frame, request.last_frame) if uri]
        if frames:
            path = "/start-end2video" if request.last_frame else "/img2video"
            return path, [*frames, *request.reference_images]
        if request.reference_images:
            return "/reference2video", list(request.reference_images)
        return "/text2video", []

    def created_id(self, body: Any) -> str:
        return first_id(body, "task_id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/tasks/{upstream_id}/creations")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("state")
        phase = phase_of(self.kind, provider, word)
        code = str(body.get("err_code") or "")
        if phase is Phase.FAILED and code == "UserCancelled":
            phase = Phase.CANCELLED  # the error-code table's "user manually terminated"
        url = None
        creations = body.get("creations")
        if phase is Phase.SUCCEEDED and isinstance(creations, list) and creations:
            first = creations[0]
            url = first.get("url") if isinstance(first, dict) else None
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=url if isinstance(url, str) and url else None,
            error=(code or "failed without an error code") if phase is Phase.FAILED else None,
        )

    def check(self) -> Call:
        """The account's remaining credits: a cheap read any valid key may make."""
        return Call("GET", "/credits")

    def cancel(self, upstream_id: str) -> Call | None:
        return Call("POST", f"/tasks/{upstream_id}/cancel", json={"id": upstream_id})

    def refusal(self, status_code: int, body: Any) -> Refusal:
        reason, message = _fields(body)
        if reason == "CreditInsufficient":  # a 400 about the account, not the request
            return Refusal(Trouble.KEY, f"HTTP {status_code} {reason}: {message}")
        return default_refusal(status_code, reason, message)
