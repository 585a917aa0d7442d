"""Runway video generation (Gen-4 / Gen-3 Alpha and the other models of its developer API).

Documented at https://docs.dev.runwayml.com/api/ (create, ``POST /v1/text_to_video`` and
``POST /v1/image_to_video``; ``GET /v1/tasks/{id}``; ``DELETE /v1/tasks/{id}`` cancels a task
that has not finished, or deletes one that has; ``GET /v1/organization``), with the
``X-Runway-Version`` header on every request (https://docs.dev.runwayml.com/api/#section/Versioning)
and the task statuses of https://docs.dev.runwayml.com/api-details/tasks/ (PENDING, THROTTLED,
RUNNING, SUCCEEDED, FAILED, CANCELLED; ``progress`` a 0-1 fraction; ``output`` URLs that expire).
``base_url`` is the API root, e.g. ``https://api.dev.runwayml.com/v1``. docs/providers.md has the
mapping.
"""

from __future__ import annotations

from typing import Any

from vidtask.core.upstream import Phase, phase_of
from vidtask.providers.base import (
    Call,
    KindDefaults,
    Refusal,
    RelayInput,
    UpstreamState,
    bearer,
    default_refusal,
    first_id,
)

__all__ = ["API_VERSION", "Runway"]

#: The API version this kind was written against; Runway refuses a request without one.
API_VERSION = "2024-11-06"
#: ``duration`` values the image-to-video reference lists.
_SECONDS = (5, 10)
#: ``ratio`` values the references list (output pixel sizes, ``width:height``).
_RATIOS = (
    (1280, 720),
    (720, 1280),
    (1104, 832),
    (832, 1104),
    (960, 960),
    (1584, 672),
    (1280, 768),
    (768, 1280),
)


def _ratio(width: int, height: int) -> str:
    """The listed ratio nearest in shape, then in size, to ``width`` x ``height``."""
    best = min(_RATIOS, key=lambda r: (abs(r[0] / r[1] - width / height), abs(r[0] - width)))
    return f"{best[0]}:{best[1]}"


def _message(body: Any) -> str:
    """Runway's error answer is ``{"error": "<message>"}`` (400s may add ``issues``)."""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    return error if isinstance(error, str) else str(body.get("message") or "")


class Runway(KindDefaults):
    kind = "runway"
    can_cancel = True
    reports_progress = True
    calls_back = False  # no callback is documented
    #: Reference images belong to text-to-image (``referenceImages``), not to the video calls.
    refuses = frozenset({"reference_images"})

    def auth(self, secret: str) -> dict[str, str]:
        """The bearer key plus ``X-Runway-Version``, which every call (check included) needs."""
        return {**bearer(secret), "X-Runway-Version": API_VERSION}

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model": model}
        if request.prompt:
            body["promptText"] = request.prompt
        frames = [
            {"uri": uri, "position": position}
            for uri, position in ((request.first_frame, "first"), (request.last_frame, "last"))
            if uri
        ]
        if request.width and request.height:
            body["ratio"] = _ratio(request.width, request.height)
        seconds = request.seconds
        if seconds is not None:
            body["duration"] = min(_SECONDS, key=lambda n: (abs(n - seconds), n))
        if request.seed is not None:
            body["seed"] = request.seed
        if not frames:
            return Call("POST", "/text_to_video", json=body)
        # One first frame is a plain URI; a last frame needs the positioned list.
        one_first = len(frames) == 1 and frames[0]["position"] == "first"
        body["promptImage"] = frames[0]["uri"] if one_first else frames
        return Call("POST", "/image_to_video", json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/tasks/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        progress = body.get("progress")
        output = body.get("output")
        url = output[0] if isinstance(output, list) and output else None
        error = None
        if phase is Phase.FAILED:
            code, failure = str(body.get("failureCode") or ""), str(body.get("failure") or "")
            error = f"{code}: {failure}" if code and failure else (code or failure or None)
        return UpstreamState(
            word=str(word),
            phase=phase,
            progress=progress * 100 if isinstance(progress, int | float) else None,
            video_url=url if isinstance(url, str) and url else None,
            error=error,
        )

    def check(self) -> Call:
        """The organization's credit balance and tiers: a cheap read any valid key may make."""
        return Call("GET", "/organization")

    def cancel(self, upstream_id: str) -> Call | None:
        return Call("DELETE", f"/tasks/{upstream_id}")

    def refusal(self, status_code: int, body: Any) -> Refusal:
        return default_refusal(status_code, "", _message(body))
