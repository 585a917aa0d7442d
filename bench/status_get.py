"""Status GET throughput as a ratio of a constant-JSON route on the same server stack (FastAPI +
uvicorn, one process), measured side by side with wrk. The anchor is the constant route placed
first in the route list; the same route placed last is printed too (it pays for the failed
matches of every route before it).

- SQLite (default): a store of 100k tasks; the status GET and its 304 (``If-None-Match``).
- PostgreSQL (``--postgres URL``): the cluster mode's API process, with 1k and then 1M tasks
  (each in a fresh database, dropped after), GETs of random tasks (of 5,000 polled ones)
  against the constant route.

Usage: python bench/status_get.py [--tasks 100000] [--seconds 8] [--connections 50]
       python bench/status_get.py --postgres postgresql://postgres@127.0.0.1:5432/test
           [--million 1000000]
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.store.sqlite import SQLiteStore

HERE = Path(__file__).resolve().parent

#: wrk's requests: a random one of the polled tasks, ``POLLED`` ids drawn once (the same in each
#: wrk thread) from ``vt_bench0000000001`` .. ``N`` (the ids `cluster.fill` writes); and the
#: same request shape for a fixed path, so the client works alike for both.
POLLED = 5_000
RANDOM_TASK = """
math.randomseed(16)
local polled = {}
for i = 1, %(polled)d do polled[i] = math.random(1, %(count)d) end
request = function()
  local id = polled[math.random(1, #polled)]
  return wrk.format("GET", string.format("/v1/tasks/vt_bench%%010d", id))
end
"""
FIXED_PATH = """
request = function()
  return wrk.format("GET", "%s")
end
"""


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
    # These tasks are old: a running server's event log no longer holds their events
    # (VIDTASK_EVENT_RETENTION_S), so the webhook outbox has no backlog of 100k to relay while
    # it is measured (the insert trigger wrote one event per task).
    conn.execute("DELETE FROM task_events")
    conn.execute("COMMIT")
    return ids


def wrk(
    url: str,
    seconds: int,
    connections: int,
    header: str | None = None,
    script: str | None = None,
) -> tuple[float, float]:
    """(requests/s, p99 latency ms); ``script`` is wrk's Lua, e.g. the requests to make."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        if script:
            lua.write(script)
            lua.flush()
            cmd[1:1] = ["-s", lua.name]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"wrk saw {non2xx.group(1)} error responses:\n{out}")
    return rps, float(p99.group(1)) * scale


@contextmanager
def server(data_dir: Path, database_url: str | None = None) -> Iterator[str]:
    """`status_app.py` on a free port; its base URL once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [sys.executable, str(HERE / "status_app.py"), str(data_dir), str(port)]
    proc = subprocess.Popen(args + ([database_url] if database_url else []))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait()


def compare(
    runs: dict[str, dict[str, str | None]], seconds: int, connections: int
) -> dict[str, tuple[float, float]]:
    """wrk each of ``runs`` (name: url, header, script) twice, interleaved so drift on a noisy
    machine hits all alike; each one's best req/s and worst p99."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(2):
        for name, run in runs.items():
            url = run["url"]
            assert url is not None
            results[name].append(
                wrk(url, seconds, connections, run.get("header"), run.get("script"))
            )
    return {
        name: (max(r for r, _ in found), max(p for _, p in found))
        for name, found in results.items()
    }


def print_table(best: dict[str, tuple[float, float]], anchor: str) -> None:
    print(f"\n{'route':<22} {'req/s':>9} {'vs ' + anchor:>18} {'p99 ms':>8}")
    for name, (rps, p99) in best.items():
        print(f"{name:<22} {rps:>9.0f} {rps / best[anchor][0]:>18.0%} {p99:>8.1f}")


def sqlite_mode(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="vidtask-bench-"))
    try:
        started = time.perf_counter()
        ids = fill(SQLiteStore(data_dir / "vidtask.db"), args.tasks)
        print(f"stored {args.tasks} tasks in {time.perf_counter() - started:.1f} s")
        with server(data_dir) as base:
            task_url = f"{base}/v1/tasks/{ids[len(ids) // 2]}"
            etag = httpx.get(task_url).headers["etag"]
            best = compare(
                {
                    "constant first": {"url": f"{base}/bench/first"},
                    "constant last": {"url": f"{base}/bench/last"},
                    "status": {"url": task_url},
                    "304": {"url": task_url, "header": f"If-None-Match: {etag}"},
                },
                args.seconds,
                args.connections,
            )
        print_table(best, "constant first")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def postgres_mode(args: argparse.Namespace) -> None:
    import cluster  # bench/cluster.py: a fresh database, and its fill

    status: dict[int, float] = {}
    for count in (1000, args.million):
        with cluster.database(args.postgres) as url, tempfile.TemporaryDirectory() as data:
            started = time.perf_counter()
            cluster.fill(url, count)
            print(f"stored {count:,} tasks in {time.perf_counter() - started:.1f} s")
            with server(Path(data), url) as base:
                httpx.get(f"{base}/v1/tasks/vt_bench0000000001").raise_for_status()
                best = compare(
                    {
                        "constant first": {
                            "url": base,
                            "script": FIXED_PATH % "/bench/first",
                        },
                        f"status, {count:,} tasks": {
                            "url": base,
                            "script": RANDOM_TASK % {"polled": POLLED, "count": count},
                        },
                    },
                    args.seconds,
                    args.connections,
                )
        print_table(best, "constant first")
        status[count] = best[f"status, {count:,} tasks"][0]
    small, large = status.values()
    print(f"\nstatus GET with {args.million:,} tasks: {large / small:.2f}x of 1,000 tasks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="SQLite: tasks stored")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: measure the cluster mode")
    parser.add_argument("--million", type=int, default=1_000_000, help="PostgreSQL: large size")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    if args.postgres:
        postgres_mode(args)
    else:
        sqlite_mode(args)


if __name__ == "__main__":
    main()
