"""Provider callbacks (Ark's ``callback_url``) come to a per-task URL on vidtask whose last part
is an HMAC of the task id: unguessable, and checked in constant time. A callback is only a hint:
it makes the relay poll the task now, so a forged or replayed one changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

__all__ = ["PATH", "callback_url", "callback_urls", "valid_token"]

#: Where callbacks arrive: ``/v1/relay/callbacks/{task_id}/{token}``.
PATH = "/v1/relay/callbacks"


def _token(secret: str, task_id: str) -> str:
    digest = hmac.new(secret.encode(), b"relay-callback:" + task_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode().rstrip("=")


def callback_url(base_url: str, secret: str, task_id: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}/{task_id}/{_token(secret, task_id)}"


def callback_urls(public_url: str | None, secret: str) -> Callable[[str], str | None]:
    """Task id -> its callback URL, or None when the server has no public address a provider
    could reach (``VIDTASK_PUBLIC_URL`` unset): then nothing calls back and polling does."""

    def url(task_id: str) -> str | None:
        return None if public_url is None else callback_url(public_url, secret, task_id)

    return url


def valid_token(secret: str, task_id: str, token: str) -> bool:
    return hmac.compare_digest(_token(secret, task_id), token)
