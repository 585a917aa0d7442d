"""Every upstream kind of the catalogue through one real `vidtask serve`, at once: a model per
kind served by two providers of that kind (each its own simulator on loopback), so each kind
goes through the same end-to-end, failover, SIGKILL and cancel paths as the first ones did.

- **Failover and the result.** The first provider of every model answers its next creates with
  5xx: each task is made at the second provider, completes with the video kept and probed, and
  the first provider made nothing. A task after that goes to the first provider.
- **SIGKILL.** Tasks of every kind, submitted upstream, survive a SIGKILL of the server mid-poll:
  they complete after the restart, and each simulator saw exactly one create per task.
- **Cancel.** A cancel of a task queued upstream ends it ``cancelled``; kinds that document a
  cancel stop the upstream task, the others say it may still run.
- ``vidtask providers check`` finds every key working.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.integration.conftest import Server
from tests.simulators import Op, Phase
from tests.simulators.base import Simulator
from tests.simulators.catalogue import CATALOGUE, SHARED_KEY
from vidtask.providers import KINDS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

KEY_ENV = "EVERY_KIND_KEY"
ACTIVE = ("queued", "in_progress")


@dataclass
class Pair:
    """The two providers of one kind's model: tried in this order."""

    kind: str
    model: str
    first: Simulator
    second: Simulator


@pytest.fixture(scope="module")
def pairs() -> Iterator[dict[str, Pair]]:
    made: dict[str, Pair] = {}
    try:
        for kind, entry in CATALOGUE.items():
            first, second = (
                entry.simulator(keys=[SHARED_KEY], queue_s=0.2, run_s=0.8).start() for _ in range(2)
            )
            made[kind] = Pair(kind, f"{kind}-every", first, second)
        yield made
    finally:
        for pair in made.values():
            pair.first.stop()
            pair.second.stop()


def providers(pairs: dict[str, Pair]) -> list[dict[str, Any]]:
    found = []
    for pair in pairs.values():
        upstream_model = CATALOGUE[pair.kind].model
        for name, sim in (("a", pair.first), ("b", pair.second)):
            found.append(
                {
                    "name": f"{pair.kind}-{name}",
                    "kind": pair.kind,
                    "base_url": sim.base_url,
                    "api_key_env": KEY_ENV,
                    "models": {pair.model: upstream_model},
                    "poll_interval_s": 0.3,
                }
            )
    return found


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("every-kind")
    (base / "assets").mkdir()
    return base / "data"


def relay_server(data: Path, pairs: dict[str, Pair]) -> Server:
    running = Server(
        data,
        data.parent / "assets",
        VIDTASK_PROVIDERS=json.dumps(providers(pairs)),
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
        VIDTASK_WORKERS="1",
        **{KEY_ENV: SHARED_KEY},
    )
    running.env["VIDTASK_PUBLIC_URL"] = running.url  # providers that call back get a URL
    return running


@pytest.fixture(scope="module")
def server(data: Path, pairs: dict[str, Pair]) -> Iterator[Server]:
    running = relay_server(data, pairs).start()
    try:
        yield running
    finally:
        running.stop()


def submit(client: httpx.Client, model: str, prompt: str) -> str:
    created = client.post("/v1/tasks", json={"model": model, "input": {"prompt": prompt}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.2)


def read_all(client: httpx.Client, ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {kind: client.get(f"/v1/tasks/{task_id}").json() for kind, task_id in ids.items()}


def finished(client: httpx.Client, ids: dict[str, str], timeout: float) -> dict[str, Any]:
    tasks: dict[str, dict[str, Any]] = {}

    def done() -> bool:
        tasks.update(read_all(client, ids))
        return all(t["status"] not in ACTIVE for t in tasks.values())

    until(done, timeout, "every task ends")
    return tasks


def assert_kept(client: httpx.Client, task: dict[str, Any], provider: str) -> None:
    assert task["status"] == "completed", (provider, task["error"])
    assert task["upstream"]["provider"] == provider
    assert task["result"]["metadata"]["width"] > 0
    video = client.get(task["result"]["video_url"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


def test_each_kind_fails_over_to_its_second_provider_then_uses_its_first(
    server: Server, pairs: dict[str, Pair]
) -> None:
    for pair in pairs.values():
        pair.first.server_errors(3, on=Op.CREATE)  # a create is tried 3 times per provider
    with httpx.Client(base_url=server.url, timeout=30) as client:
        moved = {kind: submit(client, p.model, f"failover {kind}") for kind, p in pairs.items()}
        for kind, task in finished(client, moved, 120).items():
            assert_kept(client, task, f"{kind}-b")
        for kind, pair in pairs.items():
            assert (pair.first.creates_total, pair.second.creates_total) == (0, 1), kind
        stayed = {kind: submit(client, p.model, f"first {kind}") for kind, p in pairs.items()}
        for kind, task in finished(client, stayed, 120).items():
            assert_kept(client, task, f"{kind}-a")


def test_each_kind_survives_a_sigkill_mid_poll_and_creates_once(
    server: Server, pairs: dict[str, Pair]
) -> None:
    for pair in pairs.values():
        pair.first.script("[killed]", run_s=4)
    before = {kind: p.first.creates_total + p.second.creates_total for kind, p in pairs.items()}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        ids = {kind: submit(client, p.model, f"[killed] {kind}") for kind, p in pairs.items()}
        until(
            lambda: all("upstream" in t for t in read_all(client, ids).values()),
            60,
            "every task is submitted upstream with its id saved",
        )
    server.kill()
    server.start()  # the same data directory and port
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for kind, task in finished(client, ids, 120).items():
            assert_kept(client, task, f"{kind}-a")
    for kind, pair in pairs.items():
        assert pair.first.creates_total + pair.second.creates_total == before[kind] + 1, kind


def test_each_kind_cancels_a_task_queued_upstream(server: Server, pairs: dict[str, Pair]) -> None:
    for pair in pairs.values():
        pair.first.script("[cancel me]", queue_s=60)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        ids = {kind: submit(client, p.model, f"[cancel me] {kind}") for kind, p in pairs.items()}
        until(
            # Veo names no queue: its operations read running from the start.
            lambda: all(t["stage"].startswith("upstream_") for t in read_all(client, ids).values()),
            60,
            "every task is queued upstream",
        )
        for task_id in ids.values():
            assert client.post(f"/v1/tasks/{task_id}/cancel").status_code in (200, 202)
        tasks = finished(client, ids, 60)
    for kind, task in tasks.items():
        assert task["status"] == "cancelled", (kind, task["error"])
        upstream = [t for t in pairs[kind].first.tasks.values() if "[cancel me]" in t.prompt]
        assert len(upstream) == 1, kind
        if KINDS[kind].can_cancel:
            assert "upstream task was stopped" in task["error"]["message"], kind
            assert upstream[0].phase is Phase.CANCELLED, kind
        else:
            assert "may still run" in task["error"]["message"], kind


def test_providers_check_finds_every_key_working(server: Server, pairs: dict[str, Pair]) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "vidtask", "providers", "check"],  # no name: every provider
        env={**server.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, (checked.stdout, checked.stderr)
    for kind in pairs:
        for name in (f"{kind}-a", f"{kind}-b"):
            assert f"{name} {KEY_ENV}: ok" in checked.stdout, checked.stdout
    assert SHARED_KEY not in checked.stdout + checked.stderr


def test_queue_position_and_logs_reach_the_task_and_its_event_stream(
    server: Server, pairs: dict[str, Pair]
) -> None:
    """fal says where a task is in its queue and both fal and Replicate give log lines: they
    show on the native task while it runs, and the SSE stream carries each change."""
    for kind in ("fal", "replicate"):
        pairs[kind].first.script("[talkative]", queue_s=1.5, run_s=1.5)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for kind in ("fal", "replicate"):
            task_id = submit(client, pairs[kind].model, f"[talkative] {kind}")
            seen: list[dict[str, Any]] = []
            with connect_sse(client, "GET", f"/v1/tasks/{task_id}/events") as source:
                for event in source.iter_sse():
                    seen.append(json.loads(event.data))
                    if seen[-1]["status"] not in ACTIVE:
                        break
            assert seen[-1]["status"] == "completed", seen[-1]["error"]
            told = [s["upstream"] for s in seen if "upstream" in s]
            assert any(u["logs"] for u in told), (kind, told)
            if kind == "fal":
                positions = [u["queue_position"] for u in told]
                assert 0 in positions, positions
