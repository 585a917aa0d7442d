"""Access that must never widen: revoking the last key, revoked keys on open streams, and what
a keyed server answers without a key."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server
from tests.integration.timelines import long_render
from tests.mcp_server.conftest import new_key

pytestmark = pytest.mark.slow


def revoke_all(data_dir: Path) -> None:
    env = {**os.environ, "VIDTASK_DATA_DIR": str(data_dir)}
    listed = subprocess.run(
        [sys.executable, "-m", "vidtask", "keys", "list"],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    )
    for word in listed.stdout.split():
        if word.startswith("key_"):
            done = subprocess.run(
                [sys.executable, "-m", "vidtask", "keys", "revoke", word],
                env=env,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr


@pytest.fixture
def keyed(tmp_path: Path, asset_root: Path) -> Iterator[tuple[Server, str]]:
    """A server bound to every interface, started with one key (so it may bind publicly)."""
    data = tmp_path / "data"
    secret = new_key(data, "only")
    server = Server(data, asset_root, VIDTASK_HOST="0.0.0.0", VIDTASK_SSE_HEARTBEAT_S="1")
    yield server.start(), secret
    server.stop()


def test_revoking_the_last_key_never_opens_the_server(keyed: tuple[Server, str]) -> None:
    server, secret = keyed
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/tasks").status_code == 401
        assert client.get("/v1/tasks", headers={"X-API-Key": secret}).status_code == 200
        revoke_all(server.data_dir)
        time.sleep(3)  # longer than the key cache
        assert client.get("/v1/tasks", headers={"X-API-Key": secret}).status_code == 401
        assert client.get("/v1/tasks").status_code == 401
        created = client.post("/v1/tasks", json={"model": "timeline", "input": long_render(1)})
        assert created.status_code == 401
        assert client.get("/metrics").status_code == 401


def test_open_streams_end_when_their_key_is_revoked(keyed: tuple[Server, str]) -> None:
    server, secret = keyed
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        task = client.post("/v1/tasks", json={"model": "timeline", "input": long_render(600)})
        assert task.status_code == 201
        task_id = task.json()["id"]
        ended: dict[str, float] = {}

        def follow(path: str) -> None:
            with client.stream("GET", path) as stream:
                for _ in stream.iter_lines():
                    pass
            ended[path] = time.monotonic()

        paths = [f"/v1/tasks/{task_id}/events", "/v1/events"]
        threads = [threading.Thread(target=follow, args=(p,), daemon=True) for p in paths]
        for thread in threads:
            thread.start()
        time.sleep(2)
        assert not ended, "the streams ended before the key was revoked"
        revoke_all(server.data_dir)
        revoked_at = time.monotonic()
        for thread in threads:
            thread.join(30)
        assert set(ended) == set(paths), f"still streaming after revocation: {ended}"
        # The key cache (2 s) plus one heartbeat (1 s here), with room for a loaded machine.
        late = {p: round(at - revoked_at, 1) for p, at in ended.items()}
        assert all(seconds < 10 for seconds in late.values()), late


def test_what_a_keyed_server_answers_without_a_key(keyed: tuple[Server, str]) -> None:
    server, secret = keyed
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and "tasks" not in ready  # no task counts
        refused = client.get("/metrics")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        metrics = client.get("/metrics", headers={"X-API-Key": secret})
        assert metrics.status_code == 200 and "vidtask_" in metrics.text
