"""Webhooks from a real server: a task's webhook_url, registered endpoints, the delivery log,
and deliveries that survive a server crash."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.integration.conftest import Server, wait_for
from tests.integration.timelines import tiny
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

LOOPBACK = {"VIDTASK_ASSET_ALLOW_NETWORKS": json.dumps(["127.0.0.0/8"])}


def test_task_webhook_url_gets_signed_events_and_the_log_shows_them(
    tmp_path: Path, asset_root: Path
) -> None:
    server = Server(tmp_path / "data", asset_root, **LOOPBACK).start()
    try:
        with Receiver() as receiver, httpx.Client(base_url=server.url, timeout=30) as client:
            task = client.post(
                "/v1/tasks", json={"input": tiny(), "webhook_url": receiver.url}
            ).json()
            got = receiver.wait_for_type("task.completed")
            secret = client.get("/v1/webhooks/task-secret").json()["secret"]
            events = [Webhook(secret).verify(r.body, r.headers) for r in got]
            assert {e["type"] for e in events} >= {"task.started", "task.completed"}
            done = next(e for e in events if e["type"] == "task.completed")
            assert done["data"]["id"] == task["id"] and done["data"]["result"]["video_url"]

            log = client.get("/v1/webhooks/deliveries", params={"task_id": task["id"]}).json()
            assert {d["status"] for d in log["data"]} == {"delivered"}
            one = client.get(f"/v1/webhooks/deliveries/{log['data'][0]['id']}").json()
            assert one["attempt_log"][0]["status_code"] == 200
    finally:
        server.stop()


def test_endpoints_filter_events_test_and_resend(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root, **LOOPBACK).start()
    try:
        with Receiver() as receiver, httpx.Client(base_url=server.url, timeout=30) as client:
            created = client.post(
                "/v1/webhooks", json={"url": receiver.url, "events": ["task.completed"]}
            )
            assert created.status_code == 201, created.text
            endpoint = created.json()
            assert endpoint["secret"].startswith("whsec_")
            assert "secret" not in client.get("/v1/webhooks").json()["data"][0]

            test = client.post(f"/v1/webhooks/{endpoint['id']}/test").json()
            first = receiver.wait_for(1)[0]
            assert Webhook(endpoint["secret"]).verify(first.body, first.headers)["type"] == (
                "webhook.test"
            )
            assert first.headers["webhook-id"] == test["id"]

            task = client.post("/v1/tasks", json={"input": tiny()}).json()
            wait_for(client, task["id"], lambda t: t["status"] == "completed")
            second = receiver.wait_for(2)[1]
            assert second.json["type"] == "task.completed"  # started/progress filtered out

            resent = client.post(f"/v1/webhooks/deliveries/{test['id']}/resend")
            assert resent.status_code == 202
            third = receiver.wait_for(3)[2]
            assert third.headers["webhook-id"] == test["id"]  # same message, redelivered
            time.sleep(0.5)
            assert len(receiver.received) == 3

            gone = client.delete(f"/v1/webhooks/{endpoint['id']}")
            assert gone.json()["deleted"] is True
            assert client.get(f"/v1/webhooks/{endpoint['id']}").status_code == 404
    finally:
        server.stop()


def test_bad_endpoint_requests_name_the_field(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            private = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/x"})
            assert private.status_code == 400
            assert private.json()["error"]["param"] == "url"
            assert "loopback" in private.json()["error"]["message"]
            bad_event = client.post(
                "/v1/webhooks", json={"url": "https://example.com", "events": ["task.exploded"]}
            )
            assert bad_event.status_code == 400
            assert bad_event.json()["error"]["param"] == "events[0]"
            task_hook = client.post(
                "/v1/tasks", json={"input": tiny(), "webhook_url": "http://10.0.0.1/hook"}
            )
            assert task_hook.status_code == 400
            assert task_hook.json()["error"]["param"] == "webhook_url"
    finally:
        server.stop()


def test_deliveries_pending_at_a_crash_are_delivered_after_restart(
    tmp_path: Path, asset_root: Path
) -> None:
    env = {**LOOPBACK, "VIDTASK_WEBHOOK_RETRY_BASE_S": "4"}
    server = Server(tmp_path / "data", asset_root, **env).start()
    with Receiver(statuses=(500,)) as receiver, httpx.Client(base_url=server.url) as client:
        task = client.post("/v1/tasks", json={"input": tiny(), "webhook_url": receiver.url}).json()
        wait_for(client, task["id"], lambda t: t["status"] == "completed")
        receiver.wait_for_type("task.completed")  # every event was tried once and failed
        server.kill()  # SIGKILL before the retries, which are 2-4 s out
        receiver.statuses = [200]
        failed = len(receiver.received)
        failed_ids = {r.headers["webhook-id"] for r in receiver.received}

        restarted = Server(tmp_path / "data", asset_root, **env).start()
        try:
            got = receiver.wait_for(failed + len(failed_ids))  # retried by the new process
            assert {r.headers["webhook-id"] for r in got[failed:]} == failed_ids
            with httpx.Client(base_url=restarted.url) as again:
                log = again.get("/v1/webhooks/deliveries", params={"task_id": task["id"]})
                delivered = log.json()["data"]
            assert {d["status"] for d in delivered} == {"delivered"}
            assert {d["attempts"] for d in delivered} == {2}
            assert {d["event_type"] for d in delivered} >= {"task.started", "task.completed"}
        finally:
            restarted.stop()
