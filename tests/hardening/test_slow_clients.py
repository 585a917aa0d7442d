"""Slow clients cannot starve the others: with many connections trickling their headers
(slowloris), bodies and reads, a real server keeps answering everyone else promptly."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Server

pytestmark = pytest.mark.slow

SLOW_CONNECTIONS = 60


@pytest.fixture
def server(tmp_path: Path, asset_root: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", asset_root, VIDTASK_WORKERS="1").start()
    yield srv
    srv.stop()


def trickle(port: int, request: bytes, stop: threading.Event) -> None:
    """Send ``request`` a byte a second until stopped (or the server hangs up)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for byte in request:
            if stop.wait(1.0):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return  # the server closed it: fine


def test_slowloris_and_slow_bodies_do_not_block_other_clients(server: Server) -> None:
    headers = b"GET /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    body = (
        b"POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n" + b"{" * 200
    )
    stop = threading.Event()
    slow = [
        threading.Thread(
            target=trickle, args=(server.port, headers if i % 2 else body, stop), daemon=True
        )
        for i in range(SLOW_CONNECTIONS)
    ]
    for thread in slow:
        thread.start()
    try:
        time.sleep(2)  # every slow connection is open and trickling
        # A blocked server shows as a timeout here (loose, for a loaded CI machine).
        with httpx.Client(base_url=server.url, timeout=5) as client:
            for _ in range(40):
                assert client.get("/healthz").status_code == 200
                assert client.get("/v1/tasks").status_code == 200
                time.sleep(0.1)
    finally:
        stop.set()
        for thread in slow:
            thread.join(10)
