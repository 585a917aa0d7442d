"""A real cluster on loopback: API processes (`vidtask serve`) and worker processes (`vidtask
worker`) sharing one PostgreSQL database and one data directory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.integration.conftest import Server


class WorkerProcess:
    def __init__(self, data_dir: Path, env: dict[str, str], name: str) -> None:
        self.log = data_dir / f"{name}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, concurrency: int = 1, models: str = "") -> WorkerProcess:
        args = [sys.executable, "-m", "vidtask", "worker", "--concurrency", str(concurrency)]
        if models:
            args += ["--models", models]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while "worker ready" not in self.log.read_text():
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start")
            time.sleep(0.1)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def started_tasks(self) -> list[str]:
        """The task id of every backend run this worker started (one log line each)."""
        found = []
        for line in self.log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "task started":
                found.append(entry["task_id"])
        return found


class Cluster:
    def __init__(self, data_dir: Path, asset_root: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.asset_root = asset_root
        self.database_url = database_url
        self.apis: list[Server] = []
        self.workers: list[WorkerProcess] = []
        self.env = {
            "VIDTASK_DATABASE_URL": database_url,
            "VIDTASK_LEASE_TTL_S": "3",
            "VIDTASK_LOG_FORMAT": "json",
            "VIDTASK_LOG_LEVEL": "INFO",
            "VIDTASK_SHUTDOWN_GRACE_S": "1",
        }

    def api(self) -> Server:
        server = Server(self.data_dir, self.asset_root, **self.env).start()
        self.apis.append(server)
        return server

    def worker(self, concurrency: int = 1, **env: str) -> WorkerProcess:
        name = f"worker{len(self.workers) + 1}"
        full_env = {**self.apis[0].env, **self.env, **env} if self.apis else {}
        if not full_env:
            raise RuntimeError("start an API first (it shares its settings with the workers)")
        process = WorkerProcess(self.data_dir, full_env, name).start(concurrency)
        self.workers.append(process)
        return process

    def backend_runs(self) -> Counter[str]:
        return Counter(t for w in self.workers for t in w.started_tasks())

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, args).fetchall()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for api in self.apis:
            api.stop()


@pytest.fixture
def cluster(tmp_path: Path, asset_root: Path, pg_url: str) -> Iterator[Cluster]:
    running = Cluster(tmp_path / "data", asset_root, pg_url)
    try:
        yield running
    finally:
        running.stop()


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
