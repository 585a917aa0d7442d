"""Standard Webhooks signatures (https://www.standardwebhooks.com): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``{id}.{timestamp}.{body}``, keyed by the base64 part of a ``whsec_`` secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["derive_secret", "headers", "new_secret", "sign"]

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def derive_secret(master: str, purpose: str) -> str:
    """A stable secret for ``purpose`` (e.g. one API key's task webhooks) from the server's."""
    digest = hmac.new(master.encode(), purpose.encode(), hashlib.sha256).digest()
    return PREFIX + base64.b64encode(digest[:24]).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "vidtask-webhooks",
    }
