"""SSE streams and long-poll against a real server whose worker processes make the changes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.integration.conftest import Server, wait_for
from tests.integration.timelines import long_render, tiny

pytestmark = pytest.mark.slow


def submit(client: httpx.Client, timeline: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/tasks", json={"input": timeline})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def read_stream(
    client: httpx.Client,
    path: str,
    headers: dict[str, str] | None = None,
    stop_after: int | None = None,
) -> list[tuple[int, str, Any]]:
    events: list[tuple[int, str, Any]] = []
    with connect_sse(client, "GET", path, headers=headers or {}) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        for sse in source.iter_sse():
            events.append((int(sse.id), sse.event, json.loads(sse.data)))
            if stop_after is not None and len(events) == stop_after:
                break
    return events


def test_task_stream_has_every_version_in_order_and_closes_after_the_end(
    client: httpx.Client,
) -> None:
    task = submit(client, tiny())
    events = read_stream(client, f"/v1/tasks/{task['id']}/events")
    versions = [v for v, _, _ in events]
    assert versions == list(range(1, versions[-1] + 1))  # no gaps, no repeats
    assert [body["version"] for _, _, body in events] == versions
    assert events[0][1] == "task.created"
    assert "task.started" in [name for _, name, _ in events]
    assert events[-1][1] == "task.completed"
    assert events[-1][2]["status"] == "completed" and events[-1][2]["result"]["video_url"]


def test_reconnect_with_last_event_id_resumes_without_gaps(client: httpx.Client) -> None:
    task = submit(client, long_render(6))
    first = read_stream(client, f"/v1/tasks/{task['id']}/events", stop_after=3)
    last_id = first[-1][0]
    rest = read_stream(
        client, f"/v1/tasks/{task['id']}/events", headers={"Last-Event-ID": str(last_id)}
    )
    versions = [v for v, _, _ in first + rest]
    assert versions == list(range(1, versions[-1] + 1))
    assert rest[-1][2]["status"] == "completed"


def test_key_stream_filters_and_resumes_by_sequence(client: httpx.Client) -> None:
    start = submit(client, tiny("#000000"))
    wait_for(client, start["id"], lambda t: t["status"] == "completed")
    a, b = submit(client, tiny("#111111")), submit(client, tiny("#222222"))
    # replay the retained log from the start, completed events only
    seen: set[str] = set()
    with connect_sse(client, "GET", "/v1/events?after=0&status=completed") as source:
        for sse in source.iter_sse():
            body = json.loads(sse.data)
            assert sse.event == "task.completed" and body["status"] == "completed"
            seen.add(body["id"])
            if {a["id"], b["id"], start["id"]} <= seen:
                break


def test_long_poll_wakes_on_change_and_times_out_with_the_same_version(
    tmp_path: Path, asset_root: Path, client: httpx.Client
) -> None:
    task = submit(client, long_render(6))
    started = time.monotonic()
    changed = client.get(f"/v1/tasks/{task['id']}", params={"wait": 30, "version": 1})
    assert changed.status_code == 200
    assert changed.json()["version"] > 1
    assert time.monotonic() - started < 30  # it answered on the change, not on the timeout

    idle = Server(tmp_path / "idle", asset_root, VIDTASK_WORKERS="0").start()
    try:
        with httpx.Client(base_url=idle.url, timeout=30) as other:
            queued = submit(other, tiny())
            started = time.monotonic()
            same = other.get(
                f"/v1/tasks/{queued['id']}", params={"wait": 1, "version": queued["version"]}
            )
            assert time.monotonic() - started >= 1.0  # nothing changed: it waited the full second
            assert same.json()["version"] == queued["version"]
            bad = other.get(f"/v1/tasks/{queued['id']}", params={"wait": 61})
            assert bad.status_code == 400 and bad.json()["error"]["param"] == "wait"
    finally:
        idle.stop()


def test_status_carries_eta_and_a_retry_after_hint(client: httpx.Client) -> None:
    task = submit(client, long_render(8))
    running = wait_for(client, task["id"], lambda t: t["progress"] >= 5)
    response = client.get(f"/v1/tasks/{task['id']}")
    body = response.json()
    if body["status"] == "in_progress":
        assert body["eta_seconds"] is not None and body["eta_seconds"] >= 0
        assert 1 <= int(response.headers["retry-after"]) <= 10
    assert running["progress"] >= 5
