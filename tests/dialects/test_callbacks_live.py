"""Dialect callbacks from a real server: Ark's ``callback_url`` gets its GET body on each status
change, Scenext's ``notify_url`` its ``get_status`` answer, and the deadline sweep turns an
overdue Ark task ``expired`` (and calls back)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.dialects.conftest import ALIASES, GEN_MODEL
from tests.integration.conftest import Server
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

TASKS = "/api/v3/contents/generations/tasks"
LOOPBACK = {
    "VIDTASK_ASSET_ALLOW_NETWORKS": json.dumps(["127.0.0.0/8"]),
    "VIDTASK_MODEL_ALIASES": json.dumps(ALIASES),
}


def unsigned(body: Any) -> Any:
    """``body`` with the expiry and signature of its links left out (they roll over hourly)."""
    if isinstance(body, dict):
        return {k: unsigned(v) for k, v in body.items()}
    if isinstance(body, list):
        return [unsigned(v) for v in body]
    if isinstance(body, str) and "?exp=" in body:
        return body.split("?exp=")[0]
    return body


def bodies_until(receiver: Receiver, done: Any, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bodies = [r.json for r in list(receiver.received)]
        if any(done(b) for b in bodies):
            return bodies
        time.sleep(0.1)
    raise AssertionError(f"timed out; received {[r.json for r in receiver.received]}")


def test_ark_callback_and_scenext_notify(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root, VIDTASK_WORKERS="1", **LOOPBACK).start()
    try:
        with Receiver() as receiver, httpx.Client(base_url=server.url, timeout=30) as client:
            ark_task = client.post(
                TASKS,
                json={
                    "model": "doubao-seedance-1-0-lite-t2v",
                    "content": [{"type": "text", "text": "Called back --rs 480p --dur 1"}],
                    "callback_url": receiver.url,
                    "return_last_frame": True,
                },
            ).json()
            got = bodies_until(receiver, lambda b: b.get("status") == "succeeded")
            ark_bodies = [b for b in got if b.get("id") == ark_task["id"]]
            assert [b["status"] for b in ark_bodies][-1] == "succeeded"
            assert "running" in [b["status"] for b in ark_bodies]
            final = client.get(f"{TASKS}/{ark_task['id']}").json()
            assert unsigned(ark_bodies[-1]) == unsigned(final)  # the callback body is the GET's
            assert httpx.get(final["content"]["last_frame_url"]).content[:8] == b"\x89PNG\r\n\x1a\n"

            scenext_task = client.post(
                "/api/gen_video",
                json={"question": "1+1?", "answer": "2", "quality": "l", "model": GEN_MODEL}
                | {"notify_url": receiver.url},
            ).json()["data"]["task_id"]
            got = bodies_until(receiver, lambda b: b.get("data", {}).get("status") == "COMPLETED")
            notified = [b for b in got if b.get("data", {}).get("task_id") == scenext_task]
            status = client.get(f"/api/get_status/{scenext_task}").json()
            assert [b["data"]["status"] for b in notified] == ["COMPLETED"]  # only the end
            assert unsigned(notified[-1]) == unsigned(status)
            assert notified[-1]["data"]["result"]["video_url"]
    finally:
        server.stop()


def test_deadline_sweep_expires_a_queued_task(tmp_path: Path, asset_root: Path) -> None:
    """No workers: the task stays queued until the dispatcher's sweep expires it."""
    server = Server(tmp_path / "data", asset_root, VIDTASK_WORKERS="0", **LOOPBACK).start()
    try:
        with Receiver() as receiver, httpx.Client(base_url=server.url, timeout=30) as client:
            task = client.post(
                TASKS,
                json={
                    "model": "doubao-seedance-1-0-lite-t2v",
                    "content": [{"type": "text", "text": "Too late"}],
                    "execution_expires_after": 1,
                    "callback_url": receiver.url,
                },
            ).json()
            got = bodies_until(receiver, lambda b: b.get("status") == "expired", timeout=30)
            assert got[-1]["id"] == task["id"] and got[-1]["error"]["code"] == "expired"
            assert client.get(f"{TASKS}/{task['id']}").json()["status"] == "expired"
    finally:
        server.stop()
