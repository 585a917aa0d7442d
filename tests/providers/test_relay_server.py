"""A relayed model through a real `vidtask serve`: provider callbacks, SSE to the end, cancel,
the model list, and keys that never show."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.integration.conftest import Server
from tests.simulators import ArkSimulator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "sk-relay-server-secret"
ACTIVE = ("queued", "in_progress")
MODEL = "seedance-relay"
#: Long enough that only a callback explains a quick finish.
POLL_S = 60


@pytest.fixture(scope="module")
def ark() -> Iterator[ArkSimulator]:
    with ArkSimulator(keys=[KEY], queue_s=0.3, run_s=1.0) as sim:
        yield sim


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ark: ArkSimulator) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("relay-server")
    (base / "assets").mkdir()
    provider = {
        "name": "seedance",
        "kind": "ark",
        "base_url": ark.base_url,
        "api_key_env": "RELAY_SERVER_ARK_KEY",
        "models": {MODEL: "doubao-seedance-1-0-pro-250528"},
        "poll_interval_s": POLL_S,
    }
    running = Server(
        base / "data",
        base / "assets",
        VIDTASK_PROVIDERS=json.dumps([provider]),
        RELAY_SERVER_ARK_KEY=KEY,
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
        VIDTASK_LOG_LEVEL="INFO",
    )
    running.env["VIDTASK_PUBLIC_URL"] = running.url  # so the provider gets callback URLs
    running.start()
    try:
        yield running
    finally:
        running.stop()


def submit(client: httpx.Client, prompt: str) -> str:
    body = {"model": MODEL, "input": {"prompt": prompt, "seconds": 5}}
    created = client.post("/v1/tasks", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_callback_makes_the_relay_poll_at_once_and_sse_follows_to_the_end(
    server: Server, ark: ArkSimulator
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        started = time.monotonic()
        task_id = submit(client, "a cat playing the piano")
        seen: list[dict[str, Any]] = []
        with connect_sse(client, "GET", f"/v1/tasks/{task_id}/events") as source:
            for event in source.iter_sse():
                seen.append(json.loads(event.data))
                if seen[-1]["status"] in ("completed", "failed", "cancelled"):
                    break
        took = time.monotonic() - started
    final = seen[-1]
    assert final["status"] == "completed", final["error"]
    assert took < POLL_S / 2, f"took {took:.1f} s: the callbacks did not wake the poller"
    assert any(d.url.startswith(server.url + "/v1/relay/callbacks/") for d in ark.callbacks)
    stages = [s["stage"] for s in seen]
    assert "upstream_queued" in stages or "upstream_running" in stages, stages
    assert final["result"]["metadata"]["width"] == 320
    upstream = final["upstream"]
    assert upstream["provider"] == "seedance" and upstream["progress"] == "estimated"
    assert upstream["task_id"] in ark.tasks
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)  # never goes down


def test_a_forged_callback_is_refused_and_changes_nothing(
    server: Server, ark: ArkSimulator
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        task_id = submit(client, "forged callbacks")
        before = client.get(f"/v1/tasks/{task_id}").json()["version"]
        forged = f"{server.url}/v1/relay/callbacks/{task_id}/not-the-token"
        assert ark.forge_callback(forged, {"id": "cgt-x", "status": "succeeded"}) == 404
        other = f"{server.url}/v1/relay/callbacks/vt_someone_else/not-the-token"
        assert ark.forge_callback(other, {"status": "succeeded"}) == 404
        task = client.get(f"/v1/tasks/{task_id}").json()
        assert task["version"] >= before and task["status"] != "failed"
        client.post(f"/v1/tasks/{task_id}/cancel")


def test_cancel_through_the_api_stops_the_queued_upstream_task(
    server: Server, ark: ArkSimulator
) -> None:
    ark.script("[slow queue]", queue_s=30)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        task_id = submit(client, "[slow queue] cancel me")
        deadline = time.monotonic() + 20
        while not client.get(f"/v1/tasks/{task_id}").json()["stage"].startswith("upstream"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.post(f"/v1/tasks/{task_id}/cancel").status_code in (200, 202)
        deadline = time.monotonic() + 20
        while (task := client.get(f"/v1/tasks/{task_id}").json())["status"] in ACTIVE:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert task["status"] == "cancelled"
    assert "upstream task was stopped" in task["error"]["message"]
    upstream = [t for t in ark.tasks.values() if t.prompt.startswith("[slow queue]")]
    assert [t.phase.value for t in upstream] == ["cancelled"]


def test_models_list_the_relayed_model_with_its_provider(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert models[MODEL]["providers"] == ["seedance"]
    assert "relayed" in models[MODEL]["description"]


def test_the_key_never_reaches_the_log_or_a_task(server: Server, tmp_path: Path) -> None:
    log = server.log.read_text()
    assert "relay" in log.lower() or "submitted" in log  # the log has relay lines at INFO
    assert KEY not in log
    with httpx.Client(base_url=server.url, timeout=30) as client:
        listed = client.get("/v1/tasks", params={"limit": 100}).text
    assert KEY not in listed


def vidtask(server: Server, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidtask", *args],
        env={**server.env, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_providers_command_lists_config_and_live_numbers(server: Server) -> None:
    shown = vidtask(server, "providers", "--url", server.url)
    assert shown.returncode == 0, shown.stderr
    assert "seedance" in shown.stdout and f"{MODEL} -> doubao-seedance" in shown.stdout
    assert "RELAY_SERVER_ARK_KEY" in shown.stdout and "/50" in shown.stdout
    assert KEY not in shown.stdout + shown.stderr
    rows = json.loads(vidtask(server, "providers", "--url", server.url, "--json").stdout)
    assert rows[0]["parked_keys"] == [] and rows[0]["in_flight"] is not None


def test_providers_check_says_whether_each_key_works(server: Server) -> None:
    good = vidtask(server, "providers", "check", "seedance")
    assert good.returncode == 0 and "RELAY_SERVER_ARK_KEY: ok" in good.stdout, good.stdout
    bad = vidtask(server, "providers", "check", "seedance", RELAY_SERVER_ARK_KEY="sk-wrong-key")
    assert bad.returncode == 1 and "refused" in bad.stdout and "401" in bad.stdout, bad.stdout
    assert "sk-wrong-key" not in bad.stdout + bad.stderr
    missing = vidtask(server, "providers", "check", "nope")
    assert missing.returncode == 1 and "no provider 'nope'" in missing.stderr


def test_early_and_duplicate_callbacks_are_harmless(server: Server, ark: ArkSimulator) -> None:
    ark.script("[early]", callback_before_create=True, callback_copies=3)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        before = ark.creates_total
        task_id = submit(client, "[early] callbacks first")
        deadline = time.monotonic() + 30
        while (task := client.get(f"/v1/tasks/{task_id}").json())["status"] in ACTIVE:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert task["status"] == "completed", task["error"]
    assert ark.creates_total == before + 1
