"""Status GET throughput on a store of 100k tasks, as a ratio of a constant-JSON route on the
same server stack (FastAPI + uvicorn, one process), measured side by side with wrk. The anchor
is the constant route placed first in the route list; the same route placed last is printed too
(it pays for the failed matches of every route before it).

Usage: python bench/status_get.py [--tasks 100000] [--seconds 8] [--connections 50]
Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent


def fill(store: SQLiteStore, count: int) -> list[str]:
    """Insert `count` tasks in one transaction (mixed statuses), return their ids."""
    ids = []
    conn = store._conn()
    conn.execute("BEGIN")
    timeline = {"output": {"width": 1280, "height": 720}, "tracks": [{"clips": []}]}
    statuses = [Status.COMPLETED] * 8 + [Status.QUEUED, Status.FAILED]
    for i in range(count):
        task = Task.create(TaskSpec("timeline", timeline), owner="anonymous", now=1.7e9 + i)
        status = random.choice(statuses)
        conn.execute(
            "INSERT INTO tasks (id, owner, model, input, status, stage, progress, created_at,"
            " updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                task.id,
                task.owner,
                task.model,
                '{"output":{}}',
                status.value,
                "done",
                100.0,
                task.created_at,
                task.created_at,
                3,
            ),
        )
        ids.append(task.id)
    conn.execute("COMMIT")
    return ids


def wrk(url: str, seconds: int, connections: int, header: str | None = None) -> tuple[float, float]:
    """(requests/s, p99 latency ms)."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"wrk saw {non2xx.group(1)} error responses:\n{out}")
    return rps, float(p99.group(1)) * scale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")

    data_dir = Path(tempfile.mkdtemp(prefix="vidtask-bench-"))
    started = time.perf_counter()
    ids = fill(SQLiteStore(data_dir / "vidtask.db"), args.tasks)
    print(f"stored {args.tasks} tasks in {time.perf_counter() - started:.1f} s")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(HERE / "status_app.py"), str(data_dir), str(port)]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        task_id = ids[len(ids) // 2]
        task_url = f"{base}/v1/tasks/{task_id}"
        etag = httpx.get(task_url).headers["etag"]
        rows = []
        # Interleave the routes twice so drift on a noisy machine hits both alike.
        names = ("constant first", "constant last", "status", "304")
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for _ in range(2):
            for where in ("first", "last"):
                results[f"constant {where}"].append(
                    wrk(f"{base}/bench/{where}", args.seconds, args.connections)
                )
            results["status"].append(wrk(task_url, args.seconds, args.connections))
            results["304"].append(
                wrk(task_url, args.seconds, args.connections, f"If-None-Match: {etag}")
            )
        best = {name: max(runs) for name, runs in results.items()}
        p99 = {name: max(p for _, p in runs) for name, runs in results.items()}
        anchor = best["constant first"][0]
        for name in names:
            rows.append((name, best[name][0], best[name][0] / anchor, p99[name]))
        print(f"\n{'route':<16} {'req/s':>9} {'vs first':>9} {'p99 ms':>8}")
        for name, rps, ratio, p in rows:
            print(f"{name:<16} {rps:>9.0f} {ratio:>8.0%} {p:>8.1f}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
