"""A worker: claims a task, holds its lease with heartbeats, runs the backend, stores the result.

One task at a time per worker process. Every write is fenced by (worker id, attempt), so a
worker that lost its lease (it was presumed dead and the task moved on) changes nothing.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from vidtask.backends.base import Backend, RunContext, RunResult
from vidtask.core import errors
from vidtask.core.task import Status, Task
from vidtask.storage.local import LocalArtifacts
from vidtask.store.base import Fence, TaskStore

__all__ = ["StoreReporter", "Worker"]

log = logging.getLogger(__name__)

#: Progress writes closer together than this are merged (stage changes are always written).
PROGRESS_INTERVAL_S = 0.25


class StoreReporter:
    """Writes stage, progress and previews through the fenced store API; a refused write means
    the lease is gone, so the run is told to stop.

    Preview frames are copied into the attempt's artifacts at once (through ``staging``, a
    folder in the workdir) and the task's ``previews`` list grows with each one."""

    def __init__(
        self,
        store: TaskStore,
        fence: Fence,
        lease_ttl: float,
        cancel: threading.Event,
        clock: Callable[[], float] = time.time,
        *,
        artifacts: LocalArtifacts | None = None,
        staging: Path | None = None,
    ) -> None:
        self._store, self._fence, self._ttl = store, fence, lease_ttl
        self._cancel, self._clock = cancel, clock
        self._artifacts, self._staging = artifacts, staging
        self._last_write = 0.0
        self._pending: float | None = None
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
        if not self._store.report(self._fence, now, self._ttl, **fields):
            self._cancel.set()


class Worker:
    def __init__(
        self,
        *,
        worker_id: str,
        store: TaskStore,
        backends: Mapping[str, Backend],
        artifacts: LocalArtifacts,
        scratch_dir: Path,
        lease_ttl: float,
        poll_s: float,
        cancel_check_s: float = 0.25,
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
        self.clock = clock
        self.stopping = threading.Event()
        self._current: threading.Event | None = None

    def run_forever(self) -> None:
        models = tuple(self.backends)
        while not self.stopping.is_set():
            task = self.store.claim(self.worker_id, models, self.clock(), self.lease_ttl)
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
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        watcher = threading.Thread(
            target=self._watch_lease, args=(fence, cancel), name=f"lease-{task.id}", daemon=True
        )
        watcher.start()
        extra = {"task_id": task.id, "attempt": task.attempt, "worker": self.worker_id}
        log.info("task started", extra=extra)
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
            ctx = RunContext(task.id, task.attempt, workdir, reporter, cancel)
            outcome = self._execute(task, ctx)
            if isinstance(outcome, RunResult):
                try:
                    self._complete(task, fence, outcome)
                except OSError as exc:  # e.g. a full disk while moving the artifacts
                    self.artifacts.discard_attempt(task.id, task.attempt)
                    problem = errors.VidtaskError(f"could not save the result: {exc.strerror}")
                    self.store.finish(fence, self.clock(), Status.FAILED, error=problem.to_dict())
                    log.error("saving artifacts failed: %s", exc, extra=extra)
            else:
                status = Status.CANCELLED if outcome.code == "cancelled" else Status.FAILED
                if status is Status.CANCELLED and self.stopping.is_set():
                    # Shutdown, not a user's cancel: hand the task back without using an attempt.
                    if self.store.release(fence, self.clock()):
                        log.info("task handed back on shutdown", extra=extra)
                        return
                self.store.finish(fence, self.clock(), status, error=outcome.to_dict())
                log.info("task %s: %s", status.value, outcome.message, extra=extra)
        finally:
            cancel.set()
            watcher.join()
            self._current = None
            shutil.rmtree(workdir, ignore_errors=True)

    def _execute(self, task: Task, ctx: RunContext) -> RunResult | errors.VidtaskError:
        backend = self.backends.get(task.model)
        if backend is None:
            return errors.InvalidRequest(f"no backend serves model {task.model!r}")
        try:
            return backend.run(task.input, ctx)
        except errors.VidtaskError as exc:
            return errors.Cancelled() if ctx.cancel.is_set() else exc
        except Exception:  # a crash in a backend must end the task, not the worker
            log.exception("backend crashed", extra={"task_id": task.id})
            if ctx.cancel.is_set():
                return errors.Cancelled()
            return errors.RenderFailed("the renderer crashed; see the server log")

    def _complete(self, task: Task, fence: Fence, run: RunResult) -> None:
        stills = [run.cover, run.thumbnail, run.spritesheet]
        files = [run.video, *(still for still in stills if still), *run.previews]
        names = self.artifacts.save(task.id, task.attempt, files)
        video, rest = names[0], names[1:]
        cover, thumbnail, spritesheet = (rest.pop(0) if still else None for still in stills)
        previews = [{"id": f"frame{i}", "name": name} for i, name in enumerate(rest, 1)]
        result = {
            "video": video,
            "cover": cover,
            "thumbnail": thumbnail,
            "spritesheet": spritesheet,
            "format": run.format,
            "metadata": run.metadata,
            # Warnings known at submit (e.g. a JianYing import's) come first.
            "warnings": [*task.external_ref.get("warnings", []), *run.warnings],
        }
        now = self.clock()
        won = self.store.report(fence, now, self.lease_ttl, stage="saving", previews=previews)
        won = won and self.store.finish(fence, now, Status.COMPLETED, result=result)
        if not won:  # cancelled or presumed dead meanwhile: this attempt's files are orphans
            self.artifacts.discard_attempt(task.id, task.attempt)
            log.warning("result discarded: lease lost", extra={"task_id": task.id})

    def _watch_lease(self, fence: Fence, cancel: threading.Event) -> None:
        """Renew the lease and notice cancel requests while the task runs."""
        renew_every = self.lease_ttl / 3
        last_renew = self.clock()
        while not cancel.wait(self.cancel_check_s):
            now = self.clock()
            if now - last_renew >= renew_every:
                task = self.store.heartbeat(fence, now, self.lease_ttl)
                last_renew = now
            else:
                task = self.store.get(fence.task_id)
            if (
                task is None
                or task.cancel_requested
                or task.lease_owner != fence.worker_id
                or task.attempt != fence.attempt
            ):
                cancel.set()
