"""The embedded dispatcher: worker processes supervised by the server, sharing its SQLite store.

Recovery rules (each one tested):
- a worker process that dies: its task is requeued at once while attempts remain, else it
  fails with ``worker_lost``; a new worker takes the dead one's place;
- a lease that expires (a hung worker): the same, found by a sweep every second;
- a server that died: on the next start every ``in_progress`` task is recovered, because in
  embedded mode this server owns every worker (a lock file makes sure only one server runs);
- a cancel the worker did not honour within the grace period: the worker process is killed
  (its ffmpeg child dies with it) and the task ends ``cancelled``;
- a task past its deadline (``expires_at``, Ark's ``execution_expires_after``): failed with
  ``expired`` by the same sweep, whether queued or running (its worker loses the lease);
- an attempt that died without cleaning up: the same sweep deletes its scratch files and its
  preview frames once the task has moved on (``storage.leftovers``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from vidtask.backends import registry
from vidtask.core import errors
from vidtask.dispatch.relay import RELAY_LEASE_FACTOR, RelayPoller
from vidtask.parentdeath import die_with_parent
from vidtask.settings import Settings
from vidtask.storage import leftovers, open_artifacts
from vidtask.store.base import TaskStore

__all__ = ["EmbeddedDispatcher", "running_server", "server_running"]

log = logging.getLogger(__name__)

#: Held (flock) by the server that runs the workers of a data directory; holds its pid.
LOCK_FILE = "server.lock"
MONITOR_INTERVAL_S = 0.2
SWEEP_INTERVAL_S = 1.0


class EmbeddedDispatcher:
    def __init__(
        self,
        settings: Settings,
        store: TaskStore,
        *,
        relay_callback: Callable[[str], str | None] = lambda task_id: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        #: Follows the relayed tasks (in this process), when providers are configured.
        self.relay = (
            RelayPoller(
                worker_id=f"relay:{os.getpid()}",
                store=store,
                artifacts=open_artifacts(settings),
                scratch_dir=settings.scratch_dir,
                providers=settings.providers,
                asset_policy=registry.asset_policy(settings),
                lease_ttl=RELAY_LEASE_FACTOR * settings.lease_ttl_s,
                callback_url=relay_callback,
                clock=clock,
            )
            if settings.providers
            else None
        )
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._lock_file: IO[str] | None = None
        self._last_sweep = 0.0
        self._artifacts = open_artifacts(settings)

    @property
    def workers(self) -> dict[str, int]:
        """Worker id to pid, for operators and tests."""
        return {wid: proc.pid for wid, proc in self._procs.items()}

    def start(self) -> None:
        self._take_lock()
        recovered = self.store.recover(self.clock(), everything=True)
        for task in recovered:
            log.warning(
                "recovered task left running by a previous server: now %s",
                task.status.value,
                extra={"task_id": task.id},
            )
        # Attempts that died with a previous server: their previews go, then their scratch.
        self._sweep_leftovers()
        shutil.rmtree(self.settings.scratch_dir, ignore_errors=True)
        ready = threading.Event()
        self._monitor = threading.Thread(
            target=self._supervise, args=(ready,), name="vidtask-dispatcher", daemon=True
        )
        self._monitor.start()
        ready.wait(30)
        if self.relay is not None:
            self.relay.start()

    def stop(self) -> None:
        """SIGTERM the workers (they hand their tasks back), kill stragglers, release the lock."""
        self._stopping.set()
        if self.relay is not None:
            self.relay.stop()
        if self._monitor is not None:
            self._monitor.join()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # --- internals -----------------------------------------------------------------------
    def _take_lock(self) -> None:
        path = self.settings.data_dir / LOCK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = path.open("a")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise server_running(self.settings.data_dir, running_server(self.settings.data_dir))
        lock_file.truncate(0)
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._lock_file = lock_file

    def _supervise(self, ready: threading.Event) -> None:
        # Workers are spawned from this thread: PR_SET_PDEATHSIG is tied to the parent thread.
        for _ in range(self.settings.workers):
            self._spawn()
        ready.set()
        while not self._stopping.wait(MONITOR_INTERVAL_S):
            try:
                self._tick()
            except Exception:  # the supervisor must outlive a bad tick (e.g. a locked DB)
                log.exception("dispatcher tick failed")
        # Shut down from this same thread: its exit would SIGKILL the workers (PDEATHSIG).
        self._shutdown_workers()

    def _shutdown_workers(self) -> None:
        for proc in self._procs.values():
            _signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.cancel_grace_s + 2
        for wid, proc in self._procs.items():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                proc.wait()
            self.store.recover(self.clock(), worker_id=wid)
        self._procs.clear()

    def _tick(self) -> None:
        now = self.clock()
        for wid, proc in list(self._procs.items()):
            if proc.poll() is None:
                continue
            del self._procs[wid]
            for task in self.store.recover(now, worker_id=wid):
                log.warning(
                    "worker %s exited with %s; task is now %s",
                    wid,
                    proc.returncode,
                    task.status.value,
                    extra={"task_id": task.id},
                )
            if not self._stopping.is_set():
                self._spawn()
        if now - self._last_sweep < SWEEP_INTERVAL_S:
            return
        self._last_sweep = now
        for task in self.store.recover(now):
            log.warning("lease expired; task is now %s", task.status, extra={"task_id": task.id})
        for task in self.store.expire_overdue(now):
            log.warning("task passed its deadline: expired", extra={"task_id": task.id})
        for task in self.store.overdue_cancels(now, self.settings.cancel_grace_s + 1.0):
            owner = self._procs.get(task.lease_owner or "")
            if owner is not None:
                log.warning("killing worker that ignored a cancel", extra={"task_id": task.id})
                _signal(owner, signal.SIGKILL)
        self._sweep_leftovers()

    def _sweep_leftovers(self) -> None:
        """Delete the scratch files and previews of attempts whose worker died."""
        found = leftovers.sweep(self.settings.scratch_dir, self._artifacts, self.store.get)
        for task_id, attempt in found:
            log.info(
                "deleted the files of an unfinished attempt %d", attempt, extra={"task_id": task_id}
            )

    def _spawn(self) -> None:
        worker_id = f"w_{os.getpid()}_{secrets.token_hex(4)}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "vidtask.dispatch.process", worker_id],
            stdin=subprocess.PIPE,
            preexec_fn=die_with_parent(os.getpid()),
        )
        assert proc.stdin is not None
        proc.stdin.write(self.settings.model_dump_json().encode())
        proc.stdin.close()
        self._procs[worker_id] = proc


def running_server(data_dir: Path) -> int | None:
    """The pid of the vidtask server holding ``data_dir`` (0 if it did not say), else None."""
    path = data_dir / LOCK_FILE
    try:
        with path.open("r") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = probe.read().strip()
                return int(text) if text.isdigit() else 0
    except FileNotFoundError:
        pass
    return None


def server_running(data_dir: Path, pid: int | None) -> errors.Conflict:
    """The error for a second server on one data directory."""
    holder = f" (pid {pid})" if pid else ""
    return errors.Conflict(
        f"another vidtask server is running on {data_dir}{holder}; stop it, or give this one "
        "its own VIDTASK_DATA_DIR"
    )


def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
