"""The relay and sender against a real store (SQLite and PostgreSQL) and a real HTTP receiver
on loopback."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.webhooks.receiver import Receiver
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.base import Fence, TaskStore
from vidtask.store.tasks import SQLTaskStore
from vidtask.store.webhooks import (
    Attempt,
    Delivery,
    DeliveryFilter,
    Endpoint,
    SQLWebhookStore,
    WebhookStore,
)
from vidtask.webhooks import signing
from vidtask.webhooks.outbox import Outbox
from vidtask.webhooks.relay import CURSOR, Relay, new_delivery
from vidtask.webhooks.sender import RetryPolicy, Sender

LOOPBACK = ("127.0.0.0/8",)


def render(fmt: str, event: str, task: Task) -> dict[str, Any]:
    return {"format": fmt, "type": event, "status": task.status.value, "progress": task.progress}


@pytest.fixture
def store(each_store: TaskStore) -> TaskStore:
    return each_store


@pytest.fixture
def hooks(store: TaskStore) -> WebhookStore:
    assert isinstance(store, SQLTaskStore)
    return SQLWebhookStore(store)


def stored_delivery(hooks: WebhookStore, delivery_id: str) -> tuple[Delivery, list[Attempt]]:
    found = hooks.get_delivery("key1", delivery_id)
    assert found is not None
    return found


def run_task(store: TaskStore, *, webhook_url: str | None, fmt: str = "native") -> Task:
    """Create a task and take it through a worker's whole life, as a worker would."""
    spec = TaskSpec(model="timeline", input={}, webhook_url=webhook_url, webhook_format=fmt)
    task, _ = store.create(Task.create(spec, owner="key1", now=time.time()))
    claimed = store.claim("w1", ("timeline",), time.time(), 30)
    assert claimed is not None and claimed.id == task.id
    fence = Fence(task.id, "w1", claimed.attempt)
    for percent in (3, 8, 12, 19, 25, 55, 99):
        store.report(fence, time.time(), 30, stage="rendering", progress=percent)
    assert store.finish(fence, time.time(), Status.COMPLETED, result={"video": "video.mp4"})
    return task


def test_relay_turns_a_task_life_into_throttled_typed_deliveries(
    store: TaskStore, hooks: WebhookStore
) -> None:
    task = run_task(store, webhook_url="https://example.com/hook")
    relay = Relay(store, hooks, render)
    assert relay.run_once() > 0
    assert relay.run_once() == 0  # the cursor moved: nothing is relayed twice
    items, _ = hooks.list_deliveries("key1", DeliveryFilter(task_id=task.id, limit=100))
    types = [d.event_type for d in reversed(items)]
    # progress crossed 10, 20, 50 and 90: one event per 10 % band entered
    assert types == [
        "task.started",
        "task.progress",
        "task.progress",
        "task.progress",
        "task.progress",
        "task.completed",
    ]
    progress = [json.loads(d.payload)["progress"] for d in reversed(items)][1:-1]
    assert progress == [12, 25, 55, 99]


def test_dialect_callbacks_get_status_changes_only_and_endpoints_their_filter(
    store: TaskStore, hooks: WebhookStore
) -> None:
    hooks.create_endpoint(
        Endpoint(
            "we_1",
            "key1",
            "https://example.com/a",
            signing.new_secret(),
            ("task.completed",),
            "",
            time.time(),
        )
    )
    task = run_task(store, webhook_url="https://example.com/ark", fmt="ark")
    Relay(store, hooks, render).run_once()
    items, _ = hooks.list_deliveries("key1", DeliveryFilter(task_id=task.id, limit=100))
    by_url = sorted((d.url, d.event_type, json.loads(d.payload)["format"]) for d in items)
    assert by_url == [
        ("https://example.com/a", "task.completed", "native"),
        ("https://example.com/ark", "task.completed", "ark"),
        ("https://example.com/ark", "task.started", "ark"),
    ]


def test_fails_twice_then_succeeds_is_one_delivery_with_three_attempts(
    store: TaskStore, hooks: WebhookStore
) -> None:
    secret = signing.new_secret()
    with Receiver(statuses=(500, 503, 204)) as receiver:
        delivery = new_delivery(
            owner="key1", url=receiver.url, event="task.completed", body={"x": 1}, now=time.time()
        )
        hooks.enqueue([delivery])
        sender = Sender(
            hooks,
            secret_for=lambda d: secret,
            allow_networks=LOOPBACK,
            retry=RetryPolicy(base_s=0.05, cap_s=0.1),
        )
        deadline = time.monotonic() + 20
        while stored_delivery(hooks, delivery.id)[0].status == "pending":
            assert time.monotonic() < deadline
            sender.send_due()
            time.sleep(0.02)
        sender.close()
        stored, attempts = stored_delivery(hooks, delivery.id)
    assert stored.status == "delivered" and stored.attempts == 3
    assert [a.status_code for a in attempts] == [500, 503, 204]
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {delivery.id}  # the same message id on every attempt
    for request in receiver.received:
        assert Webhook(secret).verify(request.body, request.headers) == {"x": 1}


def test_gives_up_after_max_age_and_keeps_the_log(store: TaskStore, hooks: WebhookStore) -> None:
    with Receiver(statuses=(500,)) as receiver:
        delivery = new_delivery(
            owner="key1", url=receiver.url, event="task.failed", body={}, now=time.time()
        )
        hooks.enqueue([delivery])
        sender = Sender(
            hooks,
            secret_for=lambda d: signing.new_secret(),
            allow_networks=LOOPBACK,
            retry=RetryPolicy(base_s=0.05, cap_s=0.05, max_age_s=0.3),
        )
        deadline = time.monotonic() + 20
        while stored_delivery(hooks, delivery.id)[0].status == "pending":
            assert time.monotonic() < deadline
            sender.send_due()
            time.sleep(0.02)
        sender.close()
    stored, attempts = stored_delivery(hooks, delivery.id)
    assert stored.status == "failed" and stored.last_error == "HTTP 500"
    assert len(attempts) >= 2 and all(a.status_code == 500 for a in attempts)


def test_ssrf_guard_refuses_private_targets_at_send_time(
    store: TaskStore, hooks: WebhookStore
) -> None:
    with Receiver() as receiver:
        delivery = new_delivery(
            owner="key1", url=receiver.url, event="task.completed", body={}, now=time.time()
        )
        hooks.enqueue([delivery])
        sender = Sender(hooks, secret_for=lambda d: signing.new_secret())  # no allow-list
        attempt = sender.send(hooks.claim_due(time.time(), 1, 30)[0])
        sender.close()
    assert attempt.status_code is None and "loopback" in (attempt.error or "")
    assert receiver.received == []


def test_outbox_delivers_what_a_previous_run_left_pending(
    store: TaskStore, hooks: WebhookStore
) -> None:
    """Deliveries live in the store: a new outbox (after a restart) sends them."""
    with Receiver(statuses=(200,)) as receiver:
        run_task(store, webhook_url=receiver.url)

        def outbox() -> Outbox:
            sender = Sender(
                hooks, secret_for=lambda d: signing.new_secret(), allow_networks=LOOPBACK
            )
            return Outbox(store, hooks, Relay(store, hooks, render), sender, event_retention_s=60)

        first = outbox()
        first.relay.run_once()  # relayed, then "crashed" before sending anything
        first.sender.close()
        second = outbox()
        second.start()
        try:
            got = receiver.wait_for(6)
        finally:
            second.stop()
    # sent in parallel, so arrival order is not guaranteed; ``progress`` orders them here
    # (the native payload carries the task ``version`` for that)
    ordered = sorted(got, key=lambda r: (r.json["progress"], r.json["status"] == "completed"))
    assert [r.json["type"] for r in ordered] == [
        "task.started",
        "task.progress",
        "task.progress",
        "task.progress",
        "task.progress",
        "task.completed",
    ]


def test_two_relays_never_relay_an_event_twice(store: TaskStore, hooks: WebhookStore) -> None:
    """API processes each run a relay: the cursor moves by compare-and-swap, so the slower one
    writes nothing."""
    run_task(store, webhook_url="http://127.0.0.1:9/hook")
    first, second = Relay(store, hooks, render), Relay(store, hooks, render)
    start = hooks.cursor(CURSOR)
    assert first.run_once() > 0
    assert second.run_once() == 0  # caught up: nothing left
    assert not hooks.enqueue([], cursor=(CURSOR, start, start + 1))  # a stale relay's write
    deliveries, _ = hooks.list_deliveries("key1", DeliveryFilter(limit=100))
    assert len(deliveries) == 6
