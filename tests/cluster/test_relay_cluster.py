"""Relays in the cluster mode: `vidtask worker` processes follow relayed tasks (one poller per
task, by lease); a SIGKILLed worker's tasks are taken over and finish, created upstream once."""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.cluster.conftest import Cluster, wait_until
from tests.simulators import ArkSimulator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KEY = "sk-cluster-relay"
MODEL = "seedance-relay"
TASKS = 8


@pytest.fixture
def ark() -> Iterator[ArkSimulator]:
    with ArkSimulator(keys=[KEY], queue_s=0.5, run_s=5) as sim:
        yield sim


def test_a_killed_worker_s_relayed_tasks_finish_elsewhere_created_once(
    cluster: Cluster, ark: ArkSimulator
) -> None:
    provider = {
        "name": "seedance",
        "kind": "ark",
        "base_url": ark.base_url,
        "api_key_env": "CLUSTER_ARK_KEY",
        "models": {MODEL: "doubao-seedance-1-0-pro-250528"},
        "poll_interval_s": 60,  # only callbacks (through the API, then NOTIFY) explain a quick end
    }
    cluster.env.update(
        VIDTASK_PROVIDERS=json.dumps([provider]),
        CLUSTER_ARK_KEY=KEY,
        VIDTASK_ASSET_ALLOW_NETWORKS="127.0.0.0/8",
    )
    api = cluster.api()
    first, second = (
        cluster.worker(VIDTASK_PUBLIC_URL=api.url),
        cluster.worker(VIDTASK_PUBLIC_URL=api.url),
    )
    with httpx.Client(base_url=api.url, timeout=30) as client:
        ids = []
        for n in range(TASKS):
            body = {"model": MODEL, "input": {"prompt": f"cluster {n}", "seconds": 5}}
            created = client.post("/v1/tasks", json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        # Every task submitted upstream with its id saved (the native view shows it): a kill
        # between a create and that write fails the task rather than pay twice (by design).
        wait_until(
            lambda: all("upstream" in client.get(f"/v1/tasks/{i}").json() for i in ids),
            30,
            "every task submitted upstream and its id saved",
        )
        assert ark.creates_total == TASKS
        # Kill the worker that follows the most tasks (it may be all of them).
        owners = Counter(
            str(owner) for (owner,) in cluster.query("SELECT lease_owner FROM tasks") if owner
        )
        busiest = int(owners.most_common(1)[0][0].rsplit(":", 1)[1])
        victim, survivor = (first, second) if first.pid == busiest else (second, first)
        victim.signal(signal.SIGKILL)

        def all_done() -> bool:
            found = [client.get(f"/v1/tasks/{i}").json()["status"] for i in ids]
            return all(s in ("completed", "failed", "cancelled") for s in found)

        # The killed worker's tasks wait for its lease (4 x 3 s) to lapse, then for a callback.
        wait_until(all_done, 45, "every relayed task ends")
        for task_id in ids:
            task = client.get(f"/v1/tasks/{task_id}").json()
            assert task["status"] == "completed", task["error"]
            assert client.get(task["result"]["video_url"]).content[4:8] == b"ftyp"
    assert ark.creates_total == TASKS, ark.creates
    assert survivor.proc is not None and survivor.proc.poll() is None
