"""A real vidtask server in a subprocess, on a free loopback port, with real worker processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, data_dir: Path, asset_root: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VIDTASK_DATA_DIR": str(data_dir),
            "VIDTASK_PORT": str(self.port),
            "VIDTASK_WORKERS": "2",
            "VIDTASK_ASSET_ROOTS": json.dumps([str(asset_root)]),
            "VIDTASK_LEASE_TTL_S": "3",
            "VIDTASK_CANCEL_GRACE_S": "2",
            "VIDTASK_LOG_FORMAT": "text",
            "VIDTASK_LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "vidtask", "serve"], env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def processes(self) -> list[psutil.Process]:
        assert self.proc is not None
        try:
            children: list[psutil.Process] = psutil.Process(self.proc.pid).children(recursive=True)
            return children
        except psutil.NoSuchProcess:
            return []


def ffmpeg_processes(data_dir: Path) -> list[psutil.Process]:
    """Live ffmpeg processes rendering into this server's data directory."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = proc.info["cmdline"] or []
        if (
            cmd
            and "ffmpeg" in Path(cmd[0]).name
            and str(data_dir) in " ".join(cmd)
            and proc.info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(proc)
    return found


def wait_for(
    client: httpx.Client,
    task_id: str,
    predicate: Callable[[dict[str, Any]], bool],
    timeout: float = 120,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(f"/v1/tasks/{task_id}").json()
        if predicate(task):
            return task
        time.sleep(0.1)
    raise AssertionError(f"timed out; last state: {task}")


@pytest.fixture
def server(tmp_path: Path, asset_root: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", asset_root).start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c
