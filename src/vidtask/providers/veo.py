"""Google Veo through the Gemini API (``generativelanguage.googleapis.com``).

Documented at https://ai.google.dev/gemini-api/docs/video (create with
``POST /models/{model}:predictLongRunning``, body ``instances[0]`` + ``parameters``; poll the
long-running operation ``GET /{operation name}`` until ``done``; the video's ``uri`` under
``response.generateVideoResponse.generatedSamples`` is downloaded with the same
``x-goog-api-key`` header), https://ai.google.dev/api/generate-content#v1beta.models (``GET
/models``, the cheap authenticated read) and https://ai.google.dev/gemini-api/docs/troubleshooting
(HTTP statuses and ``google.rpc`` error words). The wire names of the parameters follow Google's
own SDK for the Gemini API (github.com/googleapis/python-genai, ``google/genai/models.py``:
``_GenerateVideosConfig_to_mldev``, ``_Image_to_mldev``), which also shows that the Gemini API
takes no ``seed`` and takes images only as inline bytes. ``base_url`` is the API root, e.g.
``https://generativelanguage.googleapis.com/v1beta``. docs/providers.md has the mapping.

An operation has no status word, only ``done`` and ``error``: `state` names the three cases
``running``, ``done`` and ``error`` (plus ``filtered``: done, but every video was withheld by the
safety filters), and those names are what `vidtask.core.upstream.UPSTREAM_WORDS` maps.
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
    first_id,
)

__all__ = ["Veo"]

#: ``durationSeconds`` values the Veo 3 models take.
_SECONDS = (4, 6, 8)
#: ``aspectRatio`` values, as (width, height).
_RATIOS = ((16, 9), (9, 16))


def _error(body: Any) -> tuple[str, str, str]:
    """``(status, message, reason)`` of a ``google.rpc.Status`` (``{"error": {...}}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", ""
    reasons = [
        str(d.get("reason"))
        for d in error.get("details") or ()
        if isinstance(d, dict) and d.get("reason")
    ]
    return str(error.get("status") or ""), str(error.get("message") or ""), ",".join(reasons)


class Veo(KindDefaults):
    kind = "veo"
    #: The Gemini API documents no way to cancel a video operation.
    can_cancel = False
    #: An operation carries no progress.
    reports_progress = False
    calls_back = False
    #: No ``seed`` on the Gemini API; images only as inline bytes, which a relay that passes
    #: image URLs on cannot send.
    refuses = frozenset({"seed", "first_frame", "last_frame", "reference_images"})

    def auth(self, secret: str) -> dict[str, str]:
        return {"x-goog-api-key": secret}

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        parameters: dict[str, Any] = {}
        if request.width and request.height:
            ratio = request.width / request.height
            w, h = min(_RATIOS, key=lambda r: abs(r[0] / r[1] - ratio))
            parameters["aspectRatio"] = f"{w}:{h}"
            if min(request.width, request.height) >= 1080:
                parameters["resolution"] = "1080p"  # else the default, 720p
        seconds = request.seconds
        if seconds is not None:
            parameters["durationSeconds"] = min(_SECONDS, key=lambda n: (abs(n - seconds), n))
        body: dict[str, Any] = {"instances": [{"prompt": request.prompt or ""}]}
        if parameters:
            body["parameters"] = parameters
        return Call("POST", f"/models/{model}:predictLongRunning", json=body)

    def created_id(self, body: Any) -> str:
        """The operation's ``name``, e.g. ``models/veo-3.0-generate-001/operations/abc123``."""
        return first_id(body, "name")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        url, error = None, None
        if body.get("error"):
            word = "error"
            error = _operation_error(body["error"])
        elif body.get("done") is True:
            response = body.get("response")
            answer = response.get("generateVideoResponse") if isinstance(response, dict) else None
            answer = answer if isinstance(answer, dict) else {}
            url = _first_uri(answer.get("generatedSamples"))
            word = "done" if url else "filtered"
            if url is None:
                reasons = answer.get("raiMediaFilteredReasons")
                error = "; ".join(map(str, reasons)) if isinstance(reasons, list) else None
                error = error or "the operation finished without a video"
        else:
            word = "running"
        return UpstreamState(
            word=word,
            phase=phase_of(self.kind, provider, word),
            video_url=url,
            video_needs_key=url is not None,
            error=error,
        )

    def check(self) -> Call:
        """The model list, one page of one: any valid key may read it."""
        return Call("GET", "/models?pageSize=1")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        status, message, reason = _error(body)
        refusal = default_refusal(status_code, status, message)
        # A key Google does not know is a 400 INVALID_ARGUMENT whose reason says so.
        if "API_KEY_INVALID" in reason:
            return Refusal(Trouble.KEY, refusal.message)
        return refusal


def _operation_error(error: Any) -> str:
    """An operation's ``error``, a ``google.rpc.Status``: its message, after its code."""
    if not isinstance(error, dict):
        return str(error)
    code, message = error.get("code"), str(error.get("message") or "")
    if code is None:
        return message or "the operation failed"
    return f"code {code}: {message}" if message else f"code {code}"


def _first_uri(samples: Any) -> str | None:
    """The first sample's ``video.uri``."""
    if not isinstance(samples, list):
        return None
    for sample in samples:
        video = sample.get("video") if isinstance(sample, dict) else None
        uri = video.get("uri") if isinstance(video, dict) else None
        if isinstance(uri, str) and uri:
            return uri
    return None
