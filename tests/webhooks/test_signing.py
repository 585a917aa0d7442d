"""Signatures checked by an independent implementation: the `standardwebhooks` package."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from vidtask.webhooks import signing


def test_signature_verifies_with_standard_webhooks() -> None:
    secret = signing.new_secret()
    body = json.dumps({"type": "task.completed", "data": {"id": "vt_x"}}).encode()
    now = int(time.time())
    headers = signing.headers(secret, "msg_1", now, body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "task.completed",
        "data": {"id": "vt_x"},
    }


def test_tampered_body_or_other_secret_fails() -> None:
    secret = signing.new_secret()
    body = b'{"a":1}'
    headers = signing.headers(secret, "msg_1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_derived_secret_is_stable_and_distinct() -> None:
    a = signing.derive_secret("master", "task-webhooks:key1")
    assert a == signing.derive_secret("master", "task-webhooks:key1")
    assert a != signing.derive_secret("master", "task-webhooks:key2")
    assert a.startswith("whsec_")
