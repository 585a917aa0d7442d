"""The cluster mode end to end: API and worker processes sharing a real PostgreSQL."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.cluster.conftest import Cluster, wait_until
from tests.integration.conftest import ffmpeg_processes, wait_for
from tests.integration.timelines import long_render, tiny
from vidtask.core.task import Status
from vidtask.store.base import Fence
from vidtask.store.postgres import PostgresStore

pytestmark = pytest.mark.slow


def submit(url: str, timeline: dict[str, Any], **extra: object) -> str:
    response = httpx.post(
        url + "/v1/tasks", json={"model": "timeline", "input": timeline, **extra}, timeout=30
    )
    assert response.status_code == 201, response.text
    task_id: str = response.json()["id"]
    return task_id


def statuses(cluster: Cluster) -> dict[str, int]:
    rows = cluster.query("SELECT status, COUNT(*) FROM tasks GROUP BY status")
    return {str(s): int(str(n)) for s, n in rows}


def running_on(cluster: Cluster, task_id: str) -> tuple[str, int]:
    ((owner, attempt),) = cluster.query(
        "SELECT lease_owner, attempt FROM tasks WHERE id = %s", task_id
    )
    return str(owner), int(attempt)  # type: ignore[call-overload]


def test_two_apis_three_workers_run_200_tasks_exactly_once(cluster: Cluster) -> None:
    apis = [cluster.api(), cluster.api()]
    for _ in range(3):
        cluster.worker()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: submit(apis[i % 2].url, tiny(f"#{i:06x}")), range(200)))
    assert len(set(ids)) == 200
    wait_until(lambda: statuses(cluster).get("completed") == 200, 300, "200 completed tasks")
    runs = cluster.backend_runs()
    assert set(runs) == set(ids)
    assert max(runs.values()) == 1  # no task rendered twice
    assert all(len(w.started_tasks()) > 0 for w in cluster.workers)  # all three took work
    # every job ran once and is gone (successful jobs are deleted)
    assert cluster.query("SELECT COUNT(*) FROM procrastinate_jobs") == [(0,)]


def test_a_killed_worker_s_task_is_retried_elsewhere_and_its_late_writes_are_rejected(
    cluster: Cluster,
) -> None:
    api = cluster.api()
    first, second = cluster.worker(), cluster.worker()
    task_id = submit(api.url, long_render(120))
    with httpx.Client(base_url=api.url, timeout=30) as client:
        wait_for(client, task_id, lambda t: t["status"] == "in_progress" and t["progress"] > 0)
        owner, attempt = running_on(cluster, task_id)
        victim = first if owner.endswith(f":{first.pid}") else second
        assert owner.endswith(f":{victim.pid}")
        victim.signal(signal.SIGKILL)
        done = wait_for(client, task_id, lambda t: t["status"] != "in_progress" or t["attempt"] > 1)
        done = wait_for(client, task_id, lambda t: t["status"] == "completed", timeout=180)
    assert done["attempt"] == attempt + 1
    assert cluster.backend_runs()[task_id] == 2
    assert ffmpeg_processes(cluster.data_dir) == []
    # the killed attempt's late writes change nothing
    store = PostgresStore(cluster.database_url)
    try:
        stale = Fence(task_id, owner, attempt)
        assert not store.report(stale, time.time(), 10, progress=50)
        assert not store.finish(stale, time.time(), Status.FAILED, error={"code": "x"})
        assert store.get(task_id).status is Status.COMPLETED  # type: ignore[union-attr]
    finally:
        store.close()


def test_sigterm_hands_a_running_task_back_without_using_an_attempt(cluster: Cluster) -> None:
    api = cluster.api()
    first, second = cluster.worker(), cluster.worker()
    task_id = submit(api.url, long_render(120))
    with httpx.Client(base_url=api.url, timeout=30) as client:
        wait_for(client, task_id, lambda t: t["status"] == "in_progress" and t["progress"] > 0)
        owner, _ = running_on(cluster, task_id)
        leaving = first if owner.endswith(f":{first.pid}") else second
        leaving.signal(signal.SIGTERM)  # grace is 1 s: the render cannot finish in time
        assert leaving.proc is not None and leaving.proc.wait(30) == 0
        done = wait_for(client, task_id, lambda t: t["status"] == "completed", timeout=180)
    assert done["attempt"] == 1  # handed back, not failed over
    assert cluster.backend_runs()[task_id] == 2


def test_cancel_on_one_api_stops_a_render_on_a_worker_it_never_talked_to(
    cluster: Cluster,
) -> None:
    api_a, api_b = cluster.api(), cluster.api()
    cluster.worker()
    task_id = submit(api_b.url, long_render(120))
    with httpx.Client(base_url=api_a.url, timeout=30) as client:
        wait_for(client, task_id, lambda t: t["status"] == "in_progress" and t["progress"] > 0)
        wait_until(lambda: ffmpeg_processes(cluster.data_dir), 10, "the render's ffmpeg")
        asked = time.monotonic()
        assert client.post(f"/v1/tasks/{task_id}/cancel").status_code == 200
        done = wait_for(client, task_id, lambda t: t["status"] == "cancelled", timeout=10)
    assert time.monotonic() - asked < 5
    assert done["error"]["code"] == "cancelled"
    wait_until(lambda: not ffmpeg_processes(cluster.data_dir), 5, "ffmpeg to exit")


def test_sse_on_one_api_sees_the_progress_and_completion_a_worker_made(
    cluster: Cluster,
) -> None:
    api_a, api_b = cluster.api(), cluster.api()
    cluster.worker()
    task_id = submit(api_b.url, tiny())
    seen = []
    with httpx.Client(base_url=api_a.url, timeout=60) as client:
        with connect_sse(client, "GET", f"/v1/tasks/{task_id}/events") as source:
            for event in source.iter_sse():
                seen.append(event.event)
                if event.event in ("task.completed", "task.failed"):
                    break
    assert seen[0] in ("task.created", "task.started")
    assert "task.started" in seen and seen[-1] == "task.completed"
    # the signed links work from either API process (shared data directory and secret)
    for api in (api_a, api_b):
        video = httpx.get(f"{api.url}/v1/tasks/{task_id}", timeout=30).json()["result"]
        assert httpx.get(video["video_url"], timeout=30).status_code == 200


def test_apis_and_workers_survive_terminated_database_connections(cluster: Cluster) -> None:
    api = cluster.api()
    cluster.worker(), cluster.worker()
    ids = [submit(api.url, tiny(f"#{i:06x}")) for i in range(10)]
    ids += [submit(api.url, long_render(6))]

    def terminate_everyone() -> int:
        rows = cluster.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return len(rows)

    wait_until(lambda: statuses(cluster).get("in_progress", 0) > 0, 60, "a running task")
    assert terminate_everyone() > 0
    time.sleep(1.0)
    terminate_everyone()
    ids += [submit(api.url, tiny("#ffffff"))]  # the API reconnects
    try:
        wait_until(
            lambda: statuses(cluster).get("completed", 0) == len(ids), 180, "every task completed"
        )
    except AssertionError as timeout:
        # Failed once in a loaded full run (never alone): keep what shows where it stuck.
        logs = "\n".join(w.log.read_text()[-2000:] for w in cluster.workers)
        failed = cluster.query("SELECT id, attempt, error FROM tasks WHERE status = 'failed'")
        raise AssertionError(
            f"{timeout}; tasks by status: {statuses(cluster)}; failed: {failed}\n{logs}"
        ) from None
    assert max(cluster.backend_runs()[t] for t in ids) <= 2
