"""Relayed tasks survive SIGKILLs of the server: every task ends completed, with its video
kept, and the provider saw exactly one create per task (nothing was paid for twice)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server
from tests.simulators import ArkSimulator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "sk-durable"
MODEL = "seedance-relay"
TASKS = 6


@pytest.fixture
def ark() -> Iterator[ArkSimulator]:
    with ArkSimulator(keys=[KEY], queue_s=0.5, run_s=4) as sim:
        yield sim


def relay_server(data: Path, ark: ArkSimulator) -> Server:
    provider = {
        "name": "seedance",
        "kind": "ark",
        "base_url": ark.base_url,
        "api_key_env": "DURABLE_ARK_KEY",
        "models": {MODEL: "doubao-seedance-1-0-pro-250528"},
        "poll_interval_s": 0.3,
    }
    assets = data.parent / "assets"
    assets.mkdir(exist_ok=True)
    return Server(
        data,
        assets,
        VIDTASK_PROVIDERS=json.dumps([provider]),
        DURABLE_ARK_KEY=KEY,
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
        VIDTASK_WORKERS="1",
    )


def statuses(client: httpx.Client, ids: list[str]) -> dict[str, dict[str, object]]:
    return {task_id: client.get(f"/v1/tasks/{task_id}").json() for task_id in ids}


def until(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def test_server_killed_mid_poll_and_mid_completion(tmp_path: Path, ark: ArkSimulator) -> None:
    data = tmp_path / "data"
    server = relay_server(data, ark).start()
    ids: list[str] = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for n in range(TASKS):
                body = {"model": MODEL, "input": {"prompt": f"durable {n}", "seconds": 5}}
                created = client.post("/v1/tasks", json=body)
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])
        # Mid-poll: every task is submitted upstream and its upstream id saved (the native view
        # shows it), none has finished there.
        with httpx.Client(base_url=server.url, timeout=30) as client:
            until(
                lambda: all("upstream" in t for t in statuses(client, ids).values()),
                30,
                "every task is submitted and its upstream id saved",
            )
        assert ark.creates_total == TASKS
        server.kill()
        server = relay_server(data, ark).start()
        # Mid-completion: kill again as soon as the first task has its video.
        with httpx.Client(base_url=server.url, timeout=30) as client:
            until(
                lambda: any(t["status"] == "completed" for t in statuses(client, ids).values()),
                60,
                "a task completes",
            )
        server.kill()
        server = relay_server(data, ark).start()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            until(
                lambda: all(
                    t["status"] != "in_progress" and t["status"] != "queued"
                    for t in statuses(client, ids).values()
                ),  # fmt: skip
                90,
                "every task ends",
            )
            final = statuses(client, ids)
            for task in final.values():
                assert task["status"] == "completed", (task["error"], task["attempt"])
                video = client.get(task["result"]["video_url"])  # type: ignore[index]
                assert video.status_code == 200 and video.content[4:8] == b"ftyp"
        assert ark.creates_total == TASKS, ark.creates
    finally:
        server.stop()
