"""Luma AI's Dream Machine API (Ray video models).

Documented at https://docs.lumalabs.ai/docs/api and https://docs.lumalabs.ai/docs/video-generation
(``POST /generations`` with ``prompt``, ``model``, ``aspect_ratio``, ``resolution``, ``duration``,
``loop``, ``keyframes`` ``frame0``/``frame1`` of ``{"type": "image", "url"}``, ``callback_url``;
``GET /generations/{id}``; ``DELETE /generations/{id}``; ``GET /credits``), the API reference at
https://docs.lumalabs.ai/reference (the generation object: ``id``, ``state`` queued, dreaming,
completed or failed, ``failure_reason``, ``assets.video``) and the callbacks note at
https://docs.lumalabs.ai/changelog/callbacks-and-credits-balance (an unsigned POST of the
generation object on each change). The official SDK, github.com/lumalabs/lumaai-python
(``types/generation_create_params.py``), lists the same fields and values. ``base_url`` is the
API root, e.g. ``https://api.lumalabs.ai/dream-machine/v1``. docs/providers.md has the mapping.
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

__all__ = ["Luma"]

#: ``aspect_ratio`` values, as (width, height).
_RATIOS = ((1, 1), (16, 9), (9, 16), (4, 3), (3, 4), (21, 9), (9, 21))
#: ``resolution`` values by the height of a landscape video.
_RESOLUTIONS = ((540, "540p"), (720, "720p"), (1080, "1080p"), (2160, "4k"))
#: ``duration`` values.
_SECONDS = (5, 9)


def _message(body: Any) -> str:
    """Luma's error text: ``detail`` (a string, or a list of validation items), else blank."""
    if not isinstance(body, dict):
        return ""
    detail = body.get("detail")
    if isinstance(detail, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail or body.get("error") or body.get("message") or "")


class Luma(KindDefaults):
    kind = "luma"
    #: ``DELETE /generations/{id}`` removes a generation; the docs do not say it stops one.
    can_cancel = False
    reports_progress = False
    #: Each change is POSTed to ``callback_url`` (unsigned; vidtask's route only polls sooner).
    calls_back = True
    #: No seed, and no reference images for video (only ``keyframes``).
    refuses = frozenset({"seed", "reference_images"})

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model": model, "prompt": request.prompt or ""}
        if request.width and request.height:
            shape = request.width / request.height
            w, h = min(_RATIOS, key=lambda r: abs(r[0] / r[1] - shape))
            body["aspect_ratio"] = f"{w}:{h}"
            short = min(request.width, request.height)
            body["resolution"] = min(_RESOLUTIONS, key=lambda r: abs(r[0] - short))[1]
        seconds = request.seconds
        if seconds is not None:
            body["duration"] = f"{min(_SECONDS, key=lambda n: (abs(n - seconds), n))}s"
        frames = {
            name: {"type": "image", "url": url}
            for name, url in (("frame0", request.first_frame), ("frame1", request.last_frame))
            if url
        }
        if frames:
            body["keyframes"] = frames
        if callback_url:
            body["callback_url"] = callback_url
        return Call("POST", "/generations", json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/generations/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("state")
        phase = phase_of(self.kind, provider, word)
        assets = body.get("assets")
        video = assets.get("video") if isinstance(assets, dict) else None
        reason = body.get("failure_reason")
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=video if isinstance(video, str) and video else None,
            error=str(reason) if phase is Phase.FAILED and reason else None,
        )

    def check(self) -> Call:
        """The account's credit balance: a cheap read any valid key may make."""
        return Call("GET", "/credits")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        refusal = default_refusal(status_code, "", _message(body))
        if status_code == 402:  # Payment Required: the account's credits are spent
            return Refusal(Trouble.KEY, refusal.message)
        return refusal
