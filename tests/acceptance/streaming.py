"""Waiting for a long-running CLI command (`vidtask watch`) to hold its event stream."""

from __future__ import annotations

import time

import psutil


def wait_until_streaming(pid: int, port: int, timeout_s: float = 120) -> None:
    """Until the process, or a process it started (bash runs the README's line), holds a TCP
    connection to ``port``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        proc = psutil.Process(pid)
        for each in (proc, *proc.children(recursive=True)):
            try:
                held = each.net_connections(kind="tcp")
            except psutil.NoSuchProcess:  # a child that exited between the listing and the read
                continue
            if any(c.raddr and c.raddr.port == port for c in held):
                return
        time.sleep(0.1)
    raise AssertionError("`vidtask watch` never connected")
