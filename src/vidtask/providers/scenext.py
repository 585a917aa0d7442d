"""Scenext explainer videos (a question, optionally its answer and images, becomes a video),
or any server that speaks Scenext's contract, vidtask's own ``scenext`` dialect included.

Documented at https://docs.scenext.cn/en/api-reference/generate-video (``POST /api/gen_video``:
``question``, ``answer``, ``questionImages``, ``answerImages``, ``quality`` h/m/l, ``notify_url``;
answers ``{"status": "success", "data": {"task_id"}}``) and
https://docs.scenext.cn/en/api-reference/get-status (``GET /api/get_status/{task_id}``:
``data.status`` IN_PROGRESS, COMPLETED, FAILED; ``data.progress`` a list of preview frames
``{id, image}`` with signed storage URLs; a result once the task ends), both with
``Authorization: Bearer <key>``. ``base_url`` is the API root, e.g. ``https://api.scenext.cn/api``.

The preview frames go to ``UpstreamState.previews`` (their URLs, oldest first): the poller keeps
them as the task's own previews. docs/providers.md has the mapping and what the pages
leave open (the shape of the result, the HTTP statuses of errors).
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
)

__all__ = ["Scenext"]

#: ``quality`` by the output's short side (the docs say high/medium/low; the pixel sizes are
#: those of vidtask's own Scenext dialect: 1080, 720 and 480).
_QUALITIES = ((480, "l"), (720, "m"), (1080, "h"))


def _quality(width: int, height: int) -> str:
    short = min(width, height)
    return min(_QUALITIES, key=lambda q: (abs(q[0] - short), q[0]))[1]


def _data(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _message(body: Any) -> tuple[str, str]:
    """``(code, message)`` of an ``{"status": "error", "message", ...}`` answer."""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("code") or ""), str(body.get("message") or body.get("msg") or "")


def _previews(progress: Any) -> list[str]:
    if not isinstance(progress, list):
        return []
    frames = (frame.get("image") for frame in progress if isinstance(frame, dict))
    return [url for url in frames if isinstance(url, str) and url]


def _video_url(result: Any) -> str | None:
    url = result.get("video_url") if isinstance(result, dict) else result
    return url if isinstance(url, str) and url else None


def _error(data: dict[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, dict):
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
        return f"{code}: {message}" if code and message else (code or message or "failed")
    if isinstance(error, str) and error:
        return error
    return str(data.get("message") or "failed without an error message")


class Scenext(KindDefaults):
    kind = "scenext"
    can_cancel = False  # no cancel is documented
    reports_progress = False  # preview frames, not a percentage
    calls_back = True  # ``notify_url``, called when the task is done
    #: No frames or seed in ``gen_video``: a question (the prompt) and its images. ``seconds`` is
    #: not sent rather than refused: an explainer lasts as long as its explanation, and the
    #: OpenAI and Ark dialects fill in a default duration, so refusing it would shut Scenext out
    #: of them.
    refuses = frozenset({"first_frame", "last_frame", "seed"})

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        """The prompt is the question and reference images its ``questionImages``. ``model`` is
        not sent: the documented body has no such field (the provider's models map names only)."""
        body: dict[str, Any] = {"question": request.prompt or ""}
        if request.reference_images:
            body["questionImages"] = list(request.reference_images)
        if request.width and request.height:
            body["quality"] = _quality(request.width, request.height)
        if callback_url:
            body["notify_url"] = callback_url
        return Call("POST", "/gen_video", json=body)

    def created_id(self, body: Any) -> str:
        task_id = _data(body).get("task_id")
        if isinstance(task_id, str | int) and str(task_id):
            return str(task_id)
        raise ValueError("the create answer has no data.task_id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/get_status/{upstream_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        data = _data(body)
        word = data.get("status")
        phase = phase_of(self.kind, provider, word)
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=_video_url(data.get("result")) if phase is Phase.SUCCEEDED else None,
            error=_error(data) if phase is Phase.FAILED else None,
            previews=tuple(_previews(data.get("progress"))),
        )

    def check(self) -> Call:
        """An authenticated read of a task id that cannot exist (no account read is
        documented): 404 means the key works, 401 that it does not."""
        return self.status("vidtask-key-check")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = _message(body)
        return default_refusal(status_code, code, message)

    def refusal_in(self, body: Any) -> Refusal | None:
        """``{"status": "error"}`` in a 2xx answer: the docs list ``error`` as a request status
        without an HTTP status of its own, so it counts as a refusal of the request."""
        if isinstance(body, dict) and body.get("status") == "error":
            code, message = _message(body)
            return Refusal(
                Trouble.INPUT,
                "Scenext error"
                + (f" {code}" if code else "")
                + (f": {message}" if message else ""),
            )
        return None
