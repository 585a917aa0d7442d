"""Cluster benchmark, in one run against a real PostgreSQL (each part in a fresh database):

1. throughput of short tasks with 1, 2 and 4 `vidtask worker` processes (and the scaling ratio);
2. dispatch overhead per task: from the API's commit to a worker's claim (``started_at -
   created_at``), one task at a time with idle workers;
3. status GET req/s through one API process with 1M tasks in PostgreSQL vs 1k tasks.

Usage: python bench/cluster.py [--postgres postgresql://postgres@127.0.0.1:5432/test]
    [--tasks 60] [--million 1000000] [--seconds 8] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

from vidtask.store import migrate

TINY = {
    "output": {"width": 64, "height": 64, "fps": 10},
    "tracks": [
        {"clips": [{"asset": {"type": "color", "color": "#336699"}, "start": 0, "length": 0.3}]}
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def database(server: str) -> Iterator[str]:
    name = f"vidtask_bench_{secrets.token_hex(4)}"
    base = server.rpartition("/")[0]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            url = f"{base}/{name}"
            migrate.upgrade(url)
            yield url
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Processes:
    """API and worker processes of one cluster, stopped together."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.env = {
            **os.environ,
            "VIDTASK_DATABASE_URL": url,
            "VIDTASK_DATA_DIR": str(data_dir),
            "VIDTASK_LOG_LEVEL": "WARNING",
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def api(self) -> str:
        port = free_port()
        env = {**self.env, "VIDTASK_PORT": str(port)}
        self.procs.append(self._spawn(["serve"], env))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the API did not start")

    def worker(self) -> None:
        self.procs.append(self._spawn(["worker", "--concurrency", "1"], self.env))

    def _spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "vidtask", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def wait_for_workers(url: str, n: int) -> None:
    deadline = time.monotonic() + 60
    while count(url, "SELECT COUNT(*) FROM procrastinate_workers") < n:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.1)


def throughput(server: str, workers: int, tasks: int) -> float:
    """Short tasks per second with ``workers`` worker processes."""
    with database(server) as url, tempfile.TemporaryDirectory() as data:
        cluster = Processes(url, Path(data))
        try:
            api = cluster.api()
            for _ in range(workers):
                cluster.worker()
            wait_for_workers(url, workers)
            started = time.perf_counter()
            with httpx.Client(base_url=api, timeout=30) as client:
                for _ in range(tasks):
                    client.post("/v1/tasks", json={"model": "timeline", "input": TINY})
            done = "SELECT COUNT(*) FROM tasks WHERE status = 'completed'"
            while count(url, done) < tasks:
                time.sleep(0.05)
            return tasks / (time.perf_counter() - started)
        finally:
            cluster.stop()


def dispatch_overhead(server: str, samples: int) -> list[float]:
    """Milliseconds from the task's commit to a worker's claim, with idle workers waiting."""
    with database(server) as url, tempfile.TemporaryDirectory() as data:
        cluster = Processes(url, Path(data))
        try:
            api = cluster.api()
            cluster.worker()
            cluster.worker()
            wait_for_workers(url, 2)
            with httpx.Client(base_url=api, timeout=30) as client:
                for _ in range(samples):
                    task_id = client.post(
                        "/v1/tasks", json={"model": "timeline", "input": TINY}
                    ).json()["id"]
                    while client.get(f"/v1/tasks/{task_id}").json()["status"] != "completed":
                        time.sleep(0.02)
            with psycopg.connect(url) as conn:
                rows = conn.execute("SELECT (started_at - created_at) * 1000 FROM tasks").fetchall()
            return sorted(float(r[0]) for r in rows)
        finally:
            cluster.stop()


def fill(url: str, n: int) -> None:
    """``n`` finished tasks, written by one INSERT ... SELECT (the event trigger is off while
    loading: this is a benchmark fixture, not task history)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE tasks DISABLE TRIGGER tasks_record_event")
        conn.execute(
            "INSERT INTO tasks (id, owner, model, input, status, stage, progress, created_at,"
            " updated_at, completed_at, version, result)"
            " SELECT 'vt_bench' || lpad(i::text, 10, '0'), 'anonymous', 'timeline',"
            " '{\"output\": {}}', 'completed', 'done', 100, 1.7e9 + i, 1.7e9 + i, 1.7e9 + i, 4,"
            ' \'{"video": "video.mp4", "format": "mp4", "metadata": {}}\''
            " FROM generate_series(1, %s) AS i",
            (n,),
        )
        conn.execute("ALTER TABLE tasks ENABLE TRIGGER tasks_record_event")
        conn.execute("VACUUM ANALYZE tasks")


async def hammer(base: str, ids: list[str], seconds: float, connections: int = 32) -> float:
    """Status GETs per second of random tasks, from ``connections`` concurrent clients."""
    done = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.perf_counter() < stop:
                response = await http.get(f"/v1/tasks/{random.choice(ids)}")
                if response.status_code != 200:
                    raise RuntimeError(f"status GET answered {response.status_code}")
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return done / (time.perf_counter() - started)


def status_rate(server: str, n: int, seconds: float) -> float:
    with database(server) as url, tempfile.TemporaryDirectory() as data:
        fill(url, n)
        ids = [f"vt_bench{i:010d}" for i in random.sample(range(1, n + 1), min(n, 10_000))]
        cluster = Processes(url, Path(data))
        try:
            api = cluster.api()
            asyncio.run(hammer(api, ids, 1.0))  # warm up
            return asyncio.run(hammer(api, ids, seconds))
        finally:
            cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; PostgreSQL at {args.postgres.rpartition('@')[2]}")

    rates = {}
    for workers in (1, 2, 4):
        rates[workers] = throughput(args.postgres, workers, args.tasks)
        print(f"  {workers} worker(s): {rates[workers]:.2f} tasks/s")
    overhead = dispatch_overhead(args.postgres, 30)
    p50, p99 = statistics.median(overhead), overhead[int(0.99 * (len(overhead) - 1))]
    small = status_rate(args.postgres, 1000, args.seconds)
    print(f"  status GET, 1k tasks: {small:.0f} req/s")
    large = status_rate(args.postgres, args.million, args.seconds)
    print(f"  status GET, {args.million:,} tasks: {large:.0f} req/s")

    print("\n| measure | value |\n|---|---|")
    for workers, rate in rates.items():
        print(f"| throughput, {workers} worker(s) | {rate:.2f} tasks/s ({rate / rates[1]:.2f}x) |")
    print(f"| dispatch overhead (commit to claim) | p50 {p50:.0f} ms, p99 {p99:.0f} ms |")
    print(f"| status GET, 1k tasks | {small:.0f} req/s |")
    print(f"| status GET, {args.million:,} tasks | {large:.0f} req/s ({large / small:.2f}x) |")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "throughput": rates,
                    "dispatch_ms": {"p50": p50, "p99": p99},
                    "status_get": {"1k": small, str(args.million): large},
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
