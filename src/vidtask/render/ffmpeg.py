"""Run one ffmpeg process: progress from ``-progress pipe:1``, cancellation, no orphans.

ffmpeg runs in its own process group (so a cancel reaches anything it spawns) with
PR_SET_PDEATHSIG=SIGKILL, so it dies with the worker even if the worker is SIGKILLed. The death
signal fires when the *thread* that forked exits, which is fine: this thread waits for ffmpeg.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO

from vidtask.core import errors
from vidtask.parentdeath import die_with_parent

__all__ = ["run_ffmpeg"]

log = logging.getLogger(__name__)

_STDERR_LINES = 12


def _read_progress(stream: IO[bytes], duration_s: float, out: queue.Queue[float]) -> None:
    for raw in stream:
        key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
        if key in ("out_time_us", "out_time_ms") and value.lstrip("-").isdigit():
            # Despite its name, out_time_ms is in microseconds too.
            seconds = int(value) / 1_000_000
            out.put(min(100.0, max(0.0, 100.0 * seconds / duration_s)) if duration_s > 0 else 0.0)
        elif key == "progress" and value == "end":
            out.put(100.0)


def _read_stderr(stream: IO[bytes], tail: collections.deque[str]) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the group, then SIGKILL after ``grace_s``; always reap."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)
    # Kill the whole group even if the leader exited: it may have left children.
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def run_ffmpeg(
    args: list[str],
    *,
    duration_s: float,
    on_progress: Callable[[float], None],
    cancel: threading.Event,
    grace_s: float = 3.0,
) -> None:
    """Run ``args`` (``args[0]`` is the ffmpeg binary) to completion, reporting 0-100."""
    if "-progress" not in args:
        args = [args[0], "-progress", "pipe:1", "-nostats", *args[1:]]
    log.debug("running %s", " ".join(args))
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent(os.getpid()),
    )
    assert proc.stdout is not None and proc.stderr is not None
    updates: queue.Queue[float] = queue.Queue()
    tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
    readers = [
        threading.Thread(target=_read_progress, args=(proc.stdout, duration_s, updates)),
        threading.Thread(target=_read_stderr, args=(proc.stderr, tail)),
    ]
    for reader in readers:
        reader.daemon = True
        reader.start()
    started = time.monotonic()
    best = -1.0
    try:
        while True:
            if cancel.is_set():
                _stop(proc, grace_s)
                raise errors.Cancelled()
            try:
                percent = updates.get(timeout=0.1)
            except queue.Empty:
                if proc.poll() is not None and not readers[0].is_alive() and updates.empty():
                    break
                continue
            if percent > best:
                best = percent
                on_progress(percent)
    finally:
        _stop(proc, grace_s)
        for reader in readers:
            reader.join(timeout=2)
        proc.stdout.close()
        proc.stderr.close()
    if proc.returncode != 0:
        detail = "; ".join(list(tail)[-5:]) or f"exit status {proc.returncode}"
        raise errors.RenderFailed(f"ffmpeg failed: {detail}")
    log.debug("ffmpeg finished in %.1f s", time.monotonic() - started)
