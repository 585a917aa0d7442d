"""Crashes, restarts, cancels and concurrency against a real server with real worker processes."""

from __future__ import annotations

import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.integration.conftest import Server, ffmpeg_processes, wait_for
from tests.integration.timelines import long_render, tiny

pytestmark = pytest.mark.slow

TERMINAL = ("completed", "failed", "cancelled")


def rendering(task: dict[str, Any]) -> bool:
    return bool(task["stage"] == "rendering" and task["progress"] >= 15)


def stored(data_dir: Path, task_id: str, *columns: str) -> tuple[object, ...]:
    """Columns of a task read straight from the SQLite file (also while no server runs)."""
    with sqlite3.connect(data_dir / "vidtask.db") as conn:
        row: tuple[object, ...] = conn.execute(
            f"SELECT {', '.join(columns)} FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
    return row


def the_ffmpeg(server: Server) -> psutil.Process:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = ffmpeg_processes(server.data_dir)
        if len(found) == 1:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"expected one ffmpeg, found {found}")


def test_sigkilled_worker_is_retried_and_completes(server: Server, client: httpx.Client) -> None:
    task_id = client.post("/v1/tasks", json={"input": long_render(90)}).json()["id"]
    wait_for(client, task_id, rendering)
    ffmpeg = the_ffmpeg(server)
    worker = ffmpeg.parent()
    assert worker is not None and "vidtask.dispatch.process" in " ".join(worker.cmdline())
    worker.send_signal(signal.SIGKILL)
    psutil.wait_procs([ffmpeg], timeout=5)
    assert not ffmpeg.is_running() or ffmpeg.status() == psutil.STATUS_ZOMBIE, (
        "ffmpeg died with its worker"
    )

    retried = wait_for(client, task_id, lambda t: t["attempt"] == 2 or t["status"] in TERMINAL)
    assert retried["attempt"] == 2
    done = wait_for(client, task_id, lambda t: t["status"] in TERMINAL, timeout=180)
    assert done["status"] == "completed", done
    assert done["result"]["video_url"].split("/v1/files/")[1].startswith(f"{task_id}/2/")
    assert len(server.processes()) >= 2, "the dead worker was replaced"


def test_worker_lost_after_the_last_attempt(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root, VIDTASK_MAX_ATTEMPTS="1").start()
    try:
        with httpx.Client(base_url=server.url) as client:
            task_id = client.post("/v1/tasks", json={"input": long_render(90)}).json()["id"]
            wait_for(client, task_id, rendering)
            the_ffmpeg(server).parent().send_signal(signal.SIGKILL)
            failed = wait_for(client, task_id, lambda t: t["status"] in TERMINAL)
            assert failed["status"] == "failed"
            assert failed["error"]["code"] == "worker_lost"
    finally:
        server.stop()


def test_server_killed_mid_render_then_restarted(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root).start()
    with httpx.Client(base_url=server.url) as client:
        running = client.post("/v1/tasks", json={"input": long_render(90)}).json()["id"]
        queued = [client.post("/v1/tasks", json={"input": tiny()}).json()["id"] for _ in range(3)]
        wait_for(client, running, rendering)
    ffmpeg = the_ffmpeg(server)
    server.kill()
    gone, alive = psutil.wait_procs([ffmpeg, *server.processes()], timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], (
        "workers and ffmpeg die with the server"
    )
    owner, attempt = stored(server.data_dir, running, "lease_owner", "attempt")
    assert owner is not None and attempt == 1  # left in_progress by the dead server

    restarted = Server(tmp_path / "data", asset_root)
    restarted.port, restarted.url = server.port, server.url
    restarted.env["VIDTASK_PORT"] = str(server.port)
    restarted.start()
    try:
        with httpx.Client(base_url=restarted.url) as client:
            done = wait_for(client, running, lambda t: t["status"] in TERMINAL, timeout=180)
            assert done["status"] == "completed" and done["attempt"] == 2
            for task_id in queued:
                assert (
                    wait_for(client, task_id, lambda t: t["status"] in TERMINAL)["status"]
                    == "completed"
                )
            stuck = client.get("/v1/tasks", params={"status": ["queued", "in_progress"]}).json()
            assert stuck["data"] == []
    finally:
        restarted.stop()


def test_cancel_running_render_leaves_no_ffmpeg(server: Server, client: httpx.Client) -> None:
    task_id = client.post("/v1/tasks", json={"input": long_render(90)}).json()["id"]
    wait_for(client, task_id, rendering)
    ffmpeg = the_ffmpeg(server)
    flagged = client.post(f"/v1/tasks/{task_id}/cancel").json()
    assert flagged["cancel_requested"] is True
    started = time.monotonic()
    done = wait_for(client, task_id, lambda t: t["status"] in TERMINAL, timeout=20)
    assert done["status"] == "cancelled" and done["error"]["code"] == "cancelled"
    assert time.monotonic() - started < 10
    psutil.wait_procs([ffmpeg], timeout=5)
    assert ffmpeg_processes(server.data_dir) == []
    assert not (server.data_dir / "artifacts" / task_id).exists()
    # The worker is free again.
    after = client.post("/v1/tasks", json={"input": tiny()}).json()["id"]
    assert wait_for(client, after, lambda t: t["status"] in TERMINAL)["status"] == "completed"


def test_fifty_submissions_from_ten_threads(server: Server) -> None:
    def submit(i: int) -> str:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            response = c.post("/v1/tasks", json={"input": tiny(f"#{i:02x}{i:02x}{i:02x}")})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

    with ThreadPoolExecutor(10) as pool:
        ids = list(pool.map(submit, range(50)))
    assert len(set(ids)) == 50
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for task_id in ids:
            task = wait_for(client, task_id, lambda t: t["status"] in TERMINAL, timeout=180)
            assert task["status"] == "completed", task
            assert task["attempt"] == 1


def test_priority_runs_first(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root, VIDTASK_WORKERS="1").start()
    try:
        with httpx.Client(base_url=server.url) as client:
            blocker = client.post("/v1/tasks", json={"input": long_render(30)}).json()["id"]
            wait_for(client, blocker, lambda t: t["status"] == "in_progress")
            low = client.post("/v1/tasks", json={"input": tiny(), "priority": 0}).json()["id"]
            high = client.post("/v1/tasks", json={"input": tiny(), "priority": 5}).json()["id"]
            done = {t: wait_for(client, t, lambda x: x["status"] in TERMINAL) for t in (low, high)}
            assert done[high]["started_at"] < done[low]["started_at"]
    finally:
        server.stop()


def test_sigterm_hands_running_tasks_back(tmp_path: Path, asset_root: Path) -> None:
    server = Server(tmp_path / "data", asset_root).start()
    with httpx.Client(base_url=server.url) as client:
        task_id = client.post("/v1/tasks", json={"input": long_render(90)}).json()["id"]
        wait_for(client, task_id, rendering)
    server.stop()  # SIGTERM: a graceful shutdown
    # uvicorn re-raises SIGTERM after its graceful shutdown, so -15 is a clean exit too.
    assert server.proc is not None and server.proc.returncode in (0, -signal.SIGTERM)
    status, attempt = stored(server.data_dir, task_id, "status", "attempt")
    assert (status, attempt) == ("queued", 0), "handed back without using up an attempt"
    assert ffmpeg_processes(server.data_dir) == []
