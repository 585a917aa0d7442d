"""How soon does a client know a task finished? Completion-to-client latency (p50/p99) and
HTTP requests per finished task, for SSE, long-poll and polling every 5 s, measured side by
side: every task is followed by one client of each kind at the same time.

Usage: python bench/notify.py [--tasks 30] [--poll-every 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

import httpx
from httpx_sse import connect_sse

TINY = {
    "output": {"width": 64, "height": 64, "fps": 10},
    "tracks": [
        {"clips": [{"asset": {"type": "color", "color": "#336699"}, "start": 0, "length": 1}]}
    ],
}


def completed_at(task: dict) -> float:
    return datetime.fromisoformat(task["completed_at"].replace("Z", "+00:00")).timestamp()


def follow_sse(http: httpx.Client, task_id: str) -> tuple[float, int, dict]:
    with connect_sse(http, "GET", f"/v1/tasks/{task_id}/events") as source:
        for sse in source.iter_sse():
            task = json.loads(sse.data)
            if task["status"] in ("completed", "failed", "cancelled"):
                return time.time(), 1, task
    raise RuntimeError("stream ended early")


def follow_long_poll(http: httpx.Client, task_id: str) -> tuple[float, int, dict]:
    version, requests = 0, 0
    while True:
        requests += 1
        task = http.get(f"/v1/tasks/{task_id}", params={"wait": 30, "version": version}).json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return time.time(), requests, task
        version = task["version"]


def follow_polling(http: httpx.Client, task_id: str, every: float) -> tuple[float, int, dict]:
    # A poller's schedule has no relation to when renders end: start at a random phase.
    time.sleep(random.uniform(0, every))
    requests = 0
    while True:
        requests += 1
        task = http.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return time.time(), requests, task
        time.sleep(every)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--poll-every", type=float, default=5.0)
    args = parser.parse_args()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="vidtask-notify-")
    env = {
        **os.environ,
        "VIDTASK_DATA_DIR": data,
        "VIDTASK_PORT": str(port),
        "VIDTASK_LOG_LEVEL": "WARNING",
        "VIDTASK_WORKERS": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "vidtask", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.1)

        modes = {
            "SSE": follow_sse,
            "long-poll": follow_long_poll,
            f"poll every {args.poll_every:g} s": lambda h, t: follow_polling(h, t, args.poll_every),
        }
        results: dict[str, list[tuple[float, int]]] = {m: [] for m in modes}
        lock = threading.Lock()
        threads = []
        limits = httpx.Limits(max_connections=args.tasks * 4)
        with httpx.Client(base_url=url, timeout=60, limits=limits) as http:
            for i in range(args.tasks):
                task = http.post("/v1/tasks", json={"input": TINY}).json()
                for name, follow in modes.items():

                    def run(name: str = name, follow=follow, task_id: str = task["id"]) -> None:
                        known_at, requests, final = follow(http, task_id)
                        with lock:
                            results[name].append((known_at - completed_at(final), requests))

                    thread = threading.Thread(target=run)
                    thread.start()
                    threads.append(thread)
                time.sleep(0.25)  # spread completions over time
            for thread in threads:
                thread.join()
    finally:
        server.terminate()
        server.wait(30)

    print(f"{args.tasks} tasks, each followed by one client of every kind at the same time")
    print(f"{'mode':<18} {'p50 ms':>9} {'p99 ms':>9} {'requests/task':>14}")
    for name, rows in results.items():
        latency = [max(0.0, r[0]) * 1000 for r in rows]
        requests = statistics.mean(r[1] for r in rows)
        print(
            f"{name:<18} {percentile(latency, 0.5):9.0f} {percentile(latency, 0.99):9.0f}"
            f" {requests:14.1f}"
        )


if __name__ == "__main__":
    main()
