"""Kling AI video generation (Kuaishou's developer API).

Documented at https://app.klingai.com/global/dev/document-api/apiReference/commonInfo (the
domain, the JWT the AccessKey and SecretKey make, the ``{code, message, request_id, data}``
envelope and its service codes), https://app.klingai.com/global/dev/document-api/apiReference/model/textToVideo
(``POST /v1/videos/text2video``, ``GET /v1/videos/text2video/{task_id}`` and the list) and
https://app.klingai.com/global/dev/document-api/apiReference/model/imageToVideo
(``POST /v1/videos/image2video``, ``GET /v1/videos/image2video/{task_id}``). Statuses: submitted,
processing, succeed, failed. No cancel is documented. ``base_url`` is the API root, e.g.
``https://api-singapore.klingai.com/v1``. docs/providers.md has the mapping.

The key pool holds one secret per key: Kling's ``ACCESS_KEY:SECRET_KEY`` pair in one
variable; every request carries a fresh, short-lived token made from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from vidtask.core.upstream import Phase, phase_of
from vidtask.providers.base import (
    Call,
    KindDefaults,
    Refusal,
    RelayInput,
    Trouble,
    UpstreamState,
    bearer,
    default_refusal,
)

__all__ = ["TOKEN_LIFETIME_S", "Kling", "token"]

#: How long a token is valid: each request makes its own, so minutes are plenty (the docs'
#: example uses 30 minutes), and a leaked one is soon worthless.
TOKEN_LIFETIME_S = 300
#: ``duration`` values the create pages list (a string in the body).
_SECONDS = (5, 10)
#: ``aspect_ratio`` values of text-to-video, as (width, height).
_RATIOS = ((16, 9), (9, 16), (1, 1))
#: The prefix of the ``external_task_id`` an image-to-video create sends: the create answer
#: echoes it, and it tells which endpoint to read the task from (the answers look the same).
_I2V_MARK = "vidtask-i2v-"
#: Service codes of the common-information page, by what they mean here.
_KEY = frozenset({1000, 1001, 1002, 1003, 1004, 1100, 1101, 1102, 1103})
_RETRY = frozenset({1302, 1303, 5000, 5001, 5002})
#: Other non-zero codes (12xx parameters, 1301 content safety, ...) are the input's fault.


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token(access_key: str, secret_key: str, now: float) -> str:
    """An HS256 JWT (RFC 7519) with ``iss`` the access key, valid from 5 s before ``now`` for
    `TOKEN_LIFETIME_S`. Written with the standard library because PyJWT is no dependency of
    vidtask, and HS256 over three base64url parts is all Kling asks for."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"iss": access_key, "exp": int(now) + TOKEN_LIFETIME_S, "nbf": int(now) - 5}
    signing = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(secret_key.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(signature)}"


def envelope(body: Any) -> tuple[int, str]:
    """``(code, message)`` of Kling's envelope; ``(0, "")`` when there is none."""
    if not isinstance(body, dict):
        return 0, ""
    code = body.get("code")
    return (code if isinstance(code, int) else 0), str(body.get("message") or "")


def _data(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


class Kling(KindDefaults):
    kind = "kling"
    can_cancel = False  # no cancel is documented
    reports_progress = False
    #: ``callback_url`` is documented, but its body is Kling's task object, which vidtask's
    #: callback route does not read; the task is polled instead.
    calls_back = False
    #: No seed field is documented; several reference images are another endpoint
    #: (multi-image-to-video), not these two.
    refuses = frozenset({"seed", "reference_images"})

    def auth(self, secret: str) -> dict[str, str]:
        """A fresh JWT from ``ACCESS_KEY:SECRET_KEY``; a secret without the colon is refused
        here rather than sent as a token that cannot work."""
        access, colon, secret_key = secret.partition(":")
        if not colon or not access or not secret_key:
            raise ValueError("a Kling key must be ACCESS_KEY:SECRET_KEY in its variable")
        return bearer(token(access, secret_key, time.time()))

    def create(self, model: str, request: RelayInput, callback_url: str | None) -> Call:
        body: dict[str, Any] = {"model_name": model}
        if request.prompt:
            body["prompt"] = request.prompt
        seconds = request.seconds
        if seconds is not None:
            body["duration"] = str(min(_SECONDS, key=lambda n: (abs(n - seconds), n)))
        if request.first_frame or request.last_frame:
            if request.first_frame:
                body["image"] = request.first_frame
            if request.last_frame:
                body["image_tail"] = request.last_frame
            # The frame decides the shape: image-to-video takes no aspect_ratio.
            body["external_task_id"] = f"{_I2V_MARK}{uuid.uuid4().hex}"
            return Call("POST", "/videos/image2video", json=body)
        if request.width and request.height:
            shape = request.width / request.height
            ratio = min(_RATIOS, key=lambda r: abs(r[0] / r[1] - shape))
            body["aspect_ratio"] = f"{ratio[0]}:{ratio[1]}"
        return Call("POST", "/videos/text2video", json=body)

    def created_id(self, body: Any) -> str:
        """``<endpoint>/<task_id>``: the status read needs the endpoint the task was made on."""
        data = _data(body)
        task_id = data.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise ValueError("the create answer has no data.task_id")
        info = data.get("task_info")
        external = info.get("external_task_id") if isinstance(info, dict) else None
        image = isinstance(external, str) and external.startswith(_I2V_MARK)
        return f"{'image2video' if image else 'text2video'}/{task_id}"

    def status(self, upstream_id: str) -> Call:
        endpoint, _, task_id = upstream_id.rpartition("/")
        return Call("GET", f"/videos/{endpoint or 'text2video'}/{task_id}")

    def state(self, provider: str, upstream_id: str, body: Any) -> UpstreamState:
        data = _data(body)
        word = data.get("task_status")
        phase = phase_of(self.kind, provider, word)
        result = data.get("task_result")
        videos = result.get("videos") if isinstance(result, dict) else None
        video = videos[0] if isinstance(videos, list) and videos else None
        url = video.get("url") if isinstance(video, dict) else None
        error = None
        if phase is Phase.FAILED:
            error = str(data.get("task_status_msg") or "") or None
        extra = (
            {"duration": video["duration"]}
            if isinstance(video, dict) and "duration" in video
            else {}
        )
        return UpstreamState(
            word=str(word),
            phase=phase,
            video_url=url if isinstance(url, str) and url else None,
            error=error,
            extra=extra,
        )

    def check(self) -> Call:
        """An authenticated read that works with any valid key: the newest text-to-video task."""
        return Call("GET", "/videos/text2video?pageNum=1&pageSize=1")

    def cancel(self, upstream_id: str) -> Call | None:
        return None

    def refusal(self, status_code: int, body: Any) -> Refusal:
        code, message = envelope(body)
        refusal = default_refusal(status_code, str(code) if code else "", message)
        if code in _KEY:  # 429 1100-1102 is the account, not the rate
            return Refusal(Trouble.KEY, refusal.message)
        if code in _RETRY:
            return Refusal(Trouble.RETRY, refusal.message)
        return refusal

    def refusal_in(self, body: Any) -> Refusal | None:
        """A non-zero ``code`` in a 2xx answer: an error, whatever the HTTP status said."""
        code, message = envelope(body)
        if code == 0:
            return None
        text = f"Kling {code}" + (f": {message}" if message else "")
        if code in _KEY:
            return Refusal(Trouble.KEY, text)
        if code in _RETRY:
            return Refusal(Trouble.RETRY, text)
        return Refusal(Trouble.INPUT, text)
