"""A worker: claims a task, holds its lease with heartbeats, runs the backend, stores the result.

One task at a time per worker process. Every write is fenced by (worker id, attempt), so a
worker that lost its lease (it was presumed dead and the task moved on) changes nothing.

A database that goes away (a restart, terminated connections, a pool timeout, a locked or full
SQLite file) never fails a task: the render goes on, progress is written when the store is
back, heartbeats and the final write are retried with backoff for ``store_retry_s``. If the
lease was lost meanwhile, the fenced writes are refused and the task takes the normal requeue
path; if the store stays away, the task is left to its lease, which expires and requeues it.
A failed, cancelled or superseded attempt deletes its preview frames and scratch files.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vidtask.backends.base import Backend, RunContext, RunResult
from vidtask.core import errors
from vidtask.core.task import Task
from vidtask.dispatch.retry import (
    RETRY_FIRST_S,
    RETRY_MAX_S,
    STORE_ERRORS,
    StoreUnavailable,
    retry_store,
)
from vidtask.dispatch.settle import Settler, fence_extra
from vidtask.storage import space
from vidtask.storage.base import ArtifactStore, ArtifactStoreError
from vidtask.store.base import Fence, TaskStore

__all__ = ["STORE_ERRORS", "StoreReporter", "StoreUnavailable", "Worker", "retry_store"]

log = logging.getLogger(__name__)

#: Progress writes closer together than this are merged (stage changes are always written).
PROGRESS_INTERVAL_S = 0.25


class StoreReporter:
    """Writes stage, progress and previews through the fenced store API; a refused write means
    the lease is gone, so the run is told to stop.

    Preview frames are copied into the attempt's artifacts at once (through ``staging``, a
    folder in the workdir) and the task's ``previews`` list grows with each one.

    A write the store cannot take now is kept and merged into the next one (after a backoff),
    never raised into the render: a lost database connection is not a render failure."""

    def __init__(
        self,
        store: TaskStore,
        fence: Fence,
        lease_ttl: float,
        cancel: threading.Event,
        clock: Callable[[], float] = time.time,
        *,
        artifacts: ArtifactStore | None = None,
        staging: Path | None = None,
    ) -> None:
        self._store, self._fence, self._ttl = store, fence, lease_ttl
        self._cancel, self._clock = cancel, clock
        self._artifacts, self._staging = artifacts, staging
        self._last_write = 0.0
        self._pending: float | None = None
        self._unsent: dict[str, Any] = {}
        self._retry_at = 0.0
        self._backoff = RETRY_FIRST_S
        self.previews: list[dict[str, str]] = []

    def preview(self, path: Path) -> None:
        if self._artifacts is None or self._staging is None:
            return  # nowhere to publish early; the previews arrive with the result
        self._staging.mkdir(parents=True, exist_ok=True)
        copy = self._staging / path.name
        shutil.copyfile(path, copy)
        name = self._artifacts.save(self._fence.task_id, self._fence.attempt, [copy])[0]
        self.previews.append({"id": f"frame{len(self.previews) + 1}", "name": name})
        self._write(previews=list(self.previews), progress=self._pending)

    def stage(self, name: str) -> None:
        self._write(stage=name, progress=self._pending)

    def progress(self, percent: float) -> None:
        self._pending = percent
        if self._clock() - self._last_write >= PROGRESS_INTERVAL_S:
            self._write(progress=percent)

    def _write(self, **fields: Any) -> None:
        now = self._clock()
        self._last_write = now
        self._pending = None
        self._unsent.update((k, v) for k, v in fields.items() if v is not None)
        if now < self._retry_at:
            return
        try:
            won = self._store.report(self._fence, now, self._ttl, **self._unsent)
        except STORE_ERRORS as exc:
            self._retry_at = now + self._backoff
            self._backoff = min(self._backoff * 2, RETRY_MAX_S)
            log.warning(
                "progress not stored (%s); the render goes on",
                exc,
                extra={"task_id": self._fence.task_id},
            )
            return
        self._unsent.clear()
        self._backoff = RETRY_FIRST_S
        if not won:
            self._cancel.set()


class Worker:
    def __init__(
        self,
        *,
        worker_id: str,
        store: TaskStore,
        backends: Mapping[str, Backend],
        artifacts: ArtifactStore,
        scratch_dir: Path,
        lease_ttl: float,
        poll_s: float,
        cancel_check_s: float = 0.25,
        store_retry_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.worker_id = worker_id
        self.store = store
        self.backends = backends
        self.artifacts = artifacts
        self.scratch_dir = scratch_dir
        self.lease_ttl = lease_ttl
        self.poll_s = poll_s
        self.cancel_check_s = cancel_check_s
        #: How long a heartbeat-less final write (finish, release) is retried before the task
        #: is left to its lease.
        self.store_retry_s = store_retry_s
        self.clock = clock
        self.stopping = threading.Event()
        self.settler = Settler(
            store=store,
            artifacts=artifacts,
            scratch_dir=scratch_dir,
            lease_ttl=lease_ttl,
            store_retry_s=store_retry_s,
            stopping=self.stopping,
            clock=clock,
        )
        self._current: threading.Event | None = None

    def run_forever(self) -> None:
        models = tuple(self.backends)
        while not self.stopping.is_set():
            try:
                task = self.store.claim(self.worker_id, models, self.clock(), self.lease_ttl)
            except STORE_ERRORS as exc:  # e.g. a full disk: wait for it, do not crash
                log.warning("claim failed (%s); retrying", exc, extra={"worker": self.worker_id})
                self.stopping.wait(RETRY_MAX_S)
                continue
            if task is None:
                self.stopping.wait(self.poll_s)
                continue
            try:
                self.run_task(task)
            except Exception:  # e.g. the store is unreachable: the lease expires, the task
                # is recovered by the supervisor, and this worker keeps serving.
                log.exception("task run failed", extra={"task_id": task.id})

    def stop(self) -> None:
        """Stop after (or by interrupting) the current task; an interrupted task is handed back
        by the supervisor."""
        self.stopping.set()
        if self._current is not None:
            self._current.set()

    def run_task(self, task: Task) -> None:
        fence = Fence(task.id, self.worker_id, task.attempt)
        cancel = threading.Event()
        self._current = cancel
        workdir = self.scratch_dir / task.id / str(task.attempt)
        _make_workdir(workdir)
        watcher = threading.Thread(
            target=self._watch_lease, args=(fence, cancel), name=f"lease-{task.id}", daemon=True
        )
        watcher.start()
        extra = fence_extra(fence)
        log.info("task started", extra=extra)
        settled = False
        try:
            reporter = StoreReporter(
                self.store,
                fence,
                self.lease_ttl,
                cancel,
                self.clock,
                artifacts=self.artifacts,
                staging=workdir / ".published",
            )
            ctx = RunContext(
                task.id,
                task.attempt,
                workdir,
                reporter,
                cancel,
                checkpoint=lambda ref: self._checkpoint(fence, cancel, ref),
            )
            outcome = self._execute(task, ctx)
            problem = (
                self.settler.complete(task, fence, outcome)
                if isinstance(outcome, RunResult)
                else outcome
            )
            if problem is not None:
                self.settler.fail(fence, problem, workdir, published=bool(reporter.previews))
            settled = True
        except StoreUnavailable as exc:
            # Whether the last write landed is unknown: keep the result's files and leave the
            # task to its lease, which expires and requeues it.
            log.error("store unavailable (%s); the task is left to its lease", exc, extra=extra)
        finally:
            cancel.set()
            watcher.join()
            self._current = None
            shutil.rmtree(workdir, ignore_errors=True)
            with contextlib.suppress(OSError):
                if not settled:
                    # An empty scratch folder marks an unsettled attempt: the supervisor's
                    # sweep (storage.leftovers) deletes its files once the task's fate is known.
                    _make_workdir(workdir)
                else:
                    workdir.parent.rmdir()  # the task's folder, unless another attempt uses it

    def _execute(self, task: Task, ctx: RunContext) -> RunResult | errors.VidtaskError:
        backend = self.backends.get(task.model)
        if backend is None:
            return errors.InvalidRequest(f"no backend serves model {task.model!r}")
        try:
            return backend.run(task.input, ctx)
        except StoreUnavailable:  # a checkpoint that never landed: as for the final write
            raise
        except Exception as exc:  # a crash in a backend must end the task, not the worker
            if ctx.cancel.is_set():
                return errors.Cancelled()
            if space.is_full(exc):
                log.error("disk full: %s", exc, extra={"task_id": task.id})
                return self.settler.out_of_space()
            if isinstance(exc, ArtifactStoreError):  # a preview frame could not be published
                log.error("artifact store failed: %s", exc, extra={"task_id": task.id})
                return self.settler.unsaved(exc)
            if isinstance(exc, errors.VidtaskError):
                return exc
            log.exception("backend crashed", extra={"task_id": task.id})
            return errors.RenderFailed("the renderer crashed; see the server log")

    def _checkpoint(self, fence: Fence, cancel: threading.Event, ref: dict[str, Any]) -> bool:
        """A backend's checkpoint, retried while the store is away: the run goes on relying on
        it (e.g. it polls the provider's job it names). Refused: the lease is gone, stop."""
        won = self.settler.retry(
            "checkpoint", lambda: self.store.checkpoint(fence, self.clock(), ref), fence
        )
        if not won:
            cancel.set()
        return won

    def _watch_lease(self, fence: Fence, cancel: threading.Event) -> None:
        """Renew the lease and notice cancel requests while the task runs. A store that is
        away does not stop the render: the next round tries again."""
        renew_every = self.lease_ttl / 3
        last_renew = self.clock()
        away = False
        while not cancel.wait(self.cancel_check_s):
            now = self.clock()
            try:
                if now - last_renew >= renew_every:
                    task = self.store.heartbeat(fence, now, self.lease_ttl)
                    last_renew = now
                else:
                    task = self.store.get(fence.task_id)
            except STORE_ERRORS as exc:
                if not away:
                    log.warning("lease not renewed (%s); retrying", exc, extra=fence_extra(fence))
                away = True
                continue
            if away:
                log.info("store reachable again", extra=fence_extra(fence))
                away = False
            if (
                task is None
                or task.cancel_requested
                or task.lease_owner != fence.worker_id
                or task.attempt != fence.attempt
            ):
                cancel.set()


def _make_workdir(workdir: Path) -> None:
    """An empty ``workdir``; the sweep may remove its (empty) parent meanwhile: try again."""
    shutil.rmtree(workdir, ignore_errors=True)
    for _ in range(3):
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            return
        except FileNotFoundError:
            continue
    workdir.mkdir(parents=True, exist_ok=True)
