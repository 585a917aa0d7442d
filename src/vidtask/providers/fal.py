"""fal model APIs through fal's queue (any model fal hosts; inputs are per model).

Documented at https://fal.ai/docs/api-reference/inference-api (a model id is
``owner/app[/path]``; submit to ``POST /{model id}``; the status, result and cancel URLs use only
``owner/app``, and the submit answer gives them as ``status_url``, ``response_url`` and
``cancel_url``; the status read answers 202 until the request is complete, then 200),
https://fal.ai/docs/documentation/model-apis/inference/queue (statuses IN_QUEUE with
``queue_position``, IN_PROGRESS, COMPLETED; ``?logs=1`` adds the runner's ``logs``),
https://fal.ai/docs/inference-api/queue/result (the result is the model's answer, or the
model's error with its status code; kept an hour), https://fal.ai/docs/inference-api/queue/cancel
(``PUT .../cancel``), https://fal.ai/docs/model-endpoints/webhooks (the ``fal_webhook`` query
parameter), https://fal.ai/docs/documentation/model-apis/request-errors (``detail`` and
``error_type``) and https://fal.ai/docs/documentation/model-apis/errors (``detail`` as a list of
typed errors). The official client (fal-ai/fal, ``fal_client``) also reads ``error`` and
``error_type`` on a COMPLETED status: a request that completed with an error failed.
The input mapping follows ``fal-ai/kling-video/v2/master/text-to-video``
(https://fal.ai/models/fal-ai/kling-video/v2/master/text-to-video/api: ``prompt``, ``duration``
"5" or "10", ``aspect_ratio`` 16:9, 9:16 or 1:1; the answer's ``video.url``).
A COMPLETED status names no URL: the result needs one more read (``then``).
``base_url`` is the queue root, ``https://queue.fal.run``. docs/providers.md has the mapping.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from vidtask.core.upstream import Phase, phase_of
from vidtask.providers.base import (
    Call,
    KindDefaults,
    Refusal,
    RelayInput,
    UpstreamState,
    default_refusal,
)

__all__ = ["Fal"]

#: ``duration`` values of the Kling 2.0 Master text-to-video schema (sent as strings).
_SECONDS = (5, 10)
#: ``aspect_ratio`` values of the same schema.
_RATIOS = ((16, 9), (9, 16), (1, 1))
#: The ``error_type`` of a request its client cancelled (the request-errors page).
_CANCELLED = "client_cancelled"
_MARK = "/requests/"


def _detail(body: Any) -> str:
    """``detail`` of fal's errors: a string (request errors) or a list of typed errors, each
    with a ``msg`` (model errors)."""
    if not isinstance(body, dict):
        return ""
    detail = body.get("detail")
    if isinstance(detail, list):
        parts = [str(item.get("msg") or "") for item in detail if isinstance(item, dict)]
        return "; ".join(part for part in parts if part)
    return str(detail or "")


class Fal(KindDefaults):
    kind = "fal"
    can_cancel = True  # a queued request is removed; a running one gets a signal
    reports_progress = False  # a queue position and log lines, no percentage
    #: ``fal_webhook`` is documented; vidtask's callback URL carries its own signed token.
    calls_back = True
    #: The text-to-video schema takes no frames, no references, no seed.
    refuses = frozenset({"first_frame", "last_frame", "reference_images", "seed"})

    def auth(self, secret: str) -> dict[str, str]:
        """fal's scheme is ``Key``, not ``Bearer``."""
        return {"Authorization": f"Key {secret}"}

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {}
        if request.prompt:
            body["prompt"] = request.prompt
        seconds = request.seconds
        if seconds is not None:
            body["duration"] = str(min(_SECONDS, key=lambda n: (abs(n - seconds), n)))
        if request.width and request.height:
            shape = request.width / request.height
            ratio = min(_RATIOS, key=lambda r: abs(r[0] / r[1] - shape))
            body["aspect_ratio"] = f"{ratio[0]}:{ratio[1]}"
        path = "/" + model.strip("/")
        if callback_url is not None:
            path += f"?fal_webhook={quote(callback_url, safe='')}"
        return Call("POST", path, json=body)

    def created_id(self, body: Any) -> str:
        """``<owner>/<app>/requests/<request_id>``, the path the answer's ``status_url`` names:
        the status, result and cancel reads drop the model's endpoint path, and only the
        submit answer says what remains."""
        if not isinstance(body, dict):
            raise ValueError("the create answer has no request_id")
        request_id, status_url = body.get("request_id"), body.get("status_url")
        if not isinstance(request_id, str) or not request_id:
            raise ValueError("the create answer has no request_id")
        path = urlsplit(status_url).path if isinstance(status_url, str) else ""
        app, mark, _ = path.partition(_MARK)
        if not mark or not app.strip("/"):
            raise ValueError("the create answer has no status_url naming the app")
        return f"{app.strip('/')}{_MARK}{request_id}"

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/{upstream_id}/status?logs=1")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        position = body.get("queue_position")
        entries = body.get("logs")
        logs = tuple(
            str(entry["message"])
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict) and entry.get("message")
        )
        error, then = None, None
        failure, kind = body.get("error"), body.get("error_type")
        if phase is Phase.SUCCEEDED and (failure or kind):
            phase = Phase.CANCELLED if kind == _CANCELLED else Phase.FAILED
            error = f"{kind}: {failure}" if kind and failure else str(kind or failure)
        elif phase is Phase.SUCCEEDED:
            then = Call("GET", f"/{upstream_id}")
        return UpstreamState(
            word=str(word),
            phase=phase,
            error=error,
            queue_position=position if type(position) is int else None,
            logs=logs,
            then=then,
        )

    def resolve(self, provider: str, state: UpstreamState, body: Any) -> UpstreamState:
        """The model's answer: ``video.url`` (fal's media storage, no key)."""
        video = body.get("video") if isinstance(body, dict) else None
        url = video.get("url") if isinstance(video, dict) else None
        return UpstreamState(
            word=state.word,
            phase=state.phase,
            video_url=url if isinstance(url, str) and url else None,
            logs=state.logs,
        )

    def check(self) -> Call:
        """An authenticated read of a request that cannot exist (no listing is documented):
        a bad key answers 401 or 403, a good one 404."""
        return Call("GET", "/fal-ai/vidtask-key-check/requests/vidtask-key-check/status")

    def cancel(self, upstream_id: str) -> Call | None:
        return Call("PUT", f"/{upstream_id}/cancel")

    def refusal(self, status_code: int, body: Any) -> Refusal:
        kind = body.get("error_type") if isinstance(body, dict) else None
        return default_refusal(status_code, str(kind or ""), _detail(body))
