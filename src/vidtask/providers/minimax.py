"""MiniMax Hailuo video generation.

Documented at https://platform.minimax.io/docs/api-reference/video-generation-t2v (create,
``POST /v1/video_generation``), https://platform.minimax.io/docs/api-reference/video-generation-query
(``GET /v1/query/video_generation?task_id=``), https://platform.minimax.io/docs/api-reference/video-generation-download
(``GET /v1/files/retrieve?file_id=``) and https://platform.minimax.io/docs/api-reference/errorcode.
A finished task names a ``file_id``, not a URL: the result needs one more read (``then``).
MiniMax answers errors with HTTP 200 and a ``base_resp {status_code, status_msg}`` envelope.
docs/providers.md has the mapping.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

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

__all__ = ["MiniMax"]

#: ``duration`` values the create page lists (per model: 6, or 6 and 10).
_SECONDS = (6, 10)
#: ``resolution`` values the create page lists, by the short side.
_RESOLUTIONS = {512: "512P", 768: "768P", 1080: "1080P"}
#: ``base_resp.status_code`` values of the error-code page, by what they mean here.
_RETRY = frozenset({1000, 1001, 1002, 1024, 1033, 1041})
_KEY = frozenset({1004, 1008, 2049, 2056})
#: Unlisted non-zero codes fail closed: the request is not retried elsewhere.


def base_resp(body: Any) -> tuple[int, str]:
    """``(status_code, status_msg)`` of MiniMax's envelope; ``(0, "")`` when there is none."""
    envelope = body.get("base_resp") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        return 0, ""
    code = envelope.get("status_code")
    return (code if isinstance(code, int) else 0), str(envelope.get("status_msg") or "")


class MiniMax(KindDefaults):
    kind = "minimax"
    can_cancel = False  # no cancel is documented
    reports_progress = False
    #: ``callback_url`` is documented, but it must first answer a challenge handshake that
    #: vidtask's callback route does not play; the task is polled instead.
    calls_back = False
    #: No seed field is documented; reference images exist only as one model's
    #: ``subject_reference`` (a character), not as general references.
    refuses = frozenset({"seed", "reference_images"})

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model": model}
        if request.prompt:
            body["prompt"] = request.prompt
        if request.first_frame:
            body["first_frame_image"] = request.first_frame
        if request.last_frame:
            body["last_frame_image"] = request.last_frame
        seconds = request.seconds
        if seconds is not None:
            body["duration"] = min(_SECONDS, key=lambda n: (abs(n - seconds), n))
        if request.width and request.height:
            short = min(request.width, request.height)
            body["resolution"] = _RESOLUTIONS[min(_RESOLUTIONS, key=lambda r: abs(r - short))]
        return Call("POST", "/video_generation", json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "task_id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/query/video_generation?task_id={quote(upstream_id)}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        code, message = base_resp(body)
        then = None
        file_id = body.get("file_id")
        if phase is Phase.SUCCEEDED and isinstance(file_id, str | int) and str(file_id):
            then = Call("GET", f"/files/retrieve?file_id={quote(str(file_id))}")
        error = None
        if phase is Phase.FAILED:
            error = f"{code} {message}".strip() if code else message or None
        extra = {k: body[k] for k in ("video_width", "video_height") if k in body}
        return UpstreamState(word=str(word), phase=phase, error=error, extra=extra, then=then)

    def resolve(self, provider: str, state: UpstreamState, body: Any) -> UpstreamState:
        """The file's ``download_url`` (a signed link on another host: no key)."""
        file = body.get("file") if isinstance(body, dict) else None
        url = file.get("download_url") if isinstance(file, dict) else None
        return UpstreamState(
            word=state.word,
            phase=state.phase,
            video_url=url if isinstance(url, str) and url else None,
            extra=state.extra,
        )

    def check(self) -> Call:
        """An authenticated read: a task id that cannot exist (no list is documented). A bad
        key answers ``base_resp`` 1004 or 2049; any other answer means the key works."""
        return self.status("vidtask-key-check")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = base_resp(body)
        return default_refusal(status_code, str(code) if code else "", message)

    def refusal_in(self, body: Any) -> Refusal | None:
        """A non-zero ``base_resp.status_code`` in a 200 answer. A task answer (one with a
        ``status``) is left to ``state``: a failed task carries its reason there."""
        code, message = base_resp(body)
        if code == 0 or (isinstance(body, dict) and "status" in body):
            return None
        text = f"MiniMax {code}" + (f": {message}" if message else "")
        if code in _RETRY:
            return Refusal(Trouble.RETRY, text)
        if code in _KEY:
            return Refusal(Trouble.KEY, text)
        return Refusal(Trouble.INPUT, text)
