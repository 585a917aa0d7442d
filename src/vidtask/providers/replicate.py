"""Replicate predictions (any video model Replicate hosts; inputs are per model).

Documented at https://replicate.com/docs/reference/http (``predictions.create``,
``POST /v1/predictions`` with a ``version``; ``models.predictions.create``,
``POST /v1/models/{owner}/{name}/predictions`` for official models; ``predictions.get``,
``GET /v1/predictions/{id}``; ``predictions.cancel``, ``POST /v1/predictions/{id}/cancel``;
``account.get``, ``GET /v1/account``), https://replicate.com/docs/topics/predictions/lifecycle
(statuses starting, processing, succeeded, failed, canceled, aborted) and
https://replicate.com/docs/topics/webhooks (``webhook`` and ``webhook_events_filter``; the body
is the prediction). The ``input`` object is the model's own: this kind fills it as the input
schema of ``kwaivgi/kling-v1.6-pro`` lists it
(https://replicate.com/kwaivgi/kling-v1.6-pro/api: ``prompt``, ``start_image``, ``end_image``,
``reference_images`` up to 4, ``duration`` 5 or 10, ``aspect_ratio`` 16:9, 9:16 or 1:1; no
seed). Outputs are deleted an hour after the prediction ends, so the relay mirrors them at once.
``base_url`` is the API root, e.g. ``https://api.replicate.com/v1``. docs/providers.md has the
mapping.
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

__all__ = ["Replicate"]

#: ``duration`` values of the Kling v1.6 input schema.
_SECONDS = (5, 10)
#: ``aspect_ratio`` values of the same schema.
_RATIOS = ((16, 9), (9, 16), (1, 1))
#: At most this many ``reference_images``.
_MAX_REFERENCES = 4
#: Webhook events to be told about: the two Replicate always sends.
_EVENTS = ["start", "completed"]


def _message(body: Any) -> str:
    """Replicate answers errors as a problem object (``title``, ``detail``, ``status``)."""
    if not isinstance(body, dict):
        return ""
    detail, title = body.get("detail"), body.get("title")
    if isinstance(detail, str) and detail:
        return f"{title}: {detail}" if isinstance(title, str) and title else detail
    return str(title or body.get("error") or "")


class Replicate(KindDefaults):
    kind = "replicate"
    can_cancel = True
    reports_progress = False  # only free-form logs
    #: ``webhook`` is documented and posts the prediction; vidtask's callback URL carries its
    #: own signed token, and the callback only makes the relay poll now.
    calls_back = True
    #: The Kling v1.6 input schema has no seed.
    refuses = frozenset({"seed"})

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        inputs: dict[str, Any] = {}
        if request.prompt:
            inputs["prompt"] = request.prompt
        if request.first_frame:
            inputs["start_image"] = request.first_frame
        if request.last_frame:
            inputs["end_image"] = request.last_frame
        if request.reference_images:
            inputs["reference_images"] = list(request.reference_images[:_MAX_REFERENCES])
        seconds = request.seconds
        if seconds is not None:
            inputs["duration"] = min(_SECONDS, key=lambda n: (abs(n - seconds), n))
        if request.width and request.height:
            shape = request.width / request.height
            ratio = min(_RATIOS, key=lambda r: abs(r[0] / r[1] - shape))
            inputs["aspect_ratio"] = f"{ratio[0]}:{ratio[1]}"
        body: dict[str, Any] = {"input": inputs}
        if callback_url is not None:
            body["webhook"] = callback_url
            body["webhook_events_filter"] = list(_EVENTS)
        if ":" in model or "/" not in model:
            # ``owner/name:version`` or a bare version id: the version endpoint.
            return Call("POST", "/predictions", json={"version": model, **body})
        owner, _, name = model.partition("/")
        return Call("POST", f"/models/{quote(owner)}/{quote(name)}/predictions", json=body)

    def created_id(self, body: Any) -> str:
        return first_id(body, "id")

    def status(self, upstream_id: str) -> Call:
        return Call("GET", f"/predictions/{quote(upstream_id)}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        body = body if isinstance(body, dict) else {}
        word = body.get("status")
        phase = phase_of(self.kind, provider, word)
        output = body.get("output")
        url = output[0] if isinstance(output, list) and output else output
        logs = body.get("logs")
        error = None
        if phase in (Phase.FAILED, Phase.CANCELLED):
            raw = body.get("error")
            error = str(raw) if raw else None
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=url if phase is Phase.SUCCEEDED and isinstance(url, str) and url else None,
            error=error,
            logs=tuple(logs.splitlines()) if isinstance(logs, str) else (),
        )

    def check(self) -> Call:
        """The account the token belongs to: a cheap read any valid token may make."""
        return Call("GET", "/account")

    def cancel(self, upstream_id: str) -> Call | None:
        return Call("POST", f"/predictions/{quote(upstream_id)}/cancel")

    def refusal(self, status_code: int, body: Any) -> Refusal:
        """The usual reading, plus 402 (Payment Required: the account is out of credit) as the
        key's trouble: another key may belong to an account that has some."""
        refusal = default_refusal(status_code, "", _message(body))
        return Refusal(Trouble.KEY, refusal.message) if status_code == 402 else refusal
