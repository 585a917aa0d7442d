"""The end of an attempt, shared by render workers and the relay poller: save the result's
files and write ``completed``, or discard them and write ``failed``/``cancelled``. Every write is
fenced and retried while the store is away (`retry_store`)."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from vidtask.backends.base import RunResult
from vidtask.core import errors
from vidtask.core.task import Status, Task
from vidtask.dispatch.retry import retry_store
from vidtask.storage import space
from vidtask.storage.base import ArtifactStore, ArtifactStoreError
from vidtask.store.base import Fence, TaskStore

__all__ = ["Settler", "fence_extra"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Settler:
    def __init__(
        self,
        *,
        store: TaskStore,
        artifacts: ArtifactStore,
        scratch_dir: Path,
        lease_ttl: float,
        store_retry_s: float,
        stopping: threading.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.scratch_dir = scratch_dir
        self.lease_ttl = lease_ttl
        #: How long a final write (finish, release) is retried before the task is left to its
        #: lease.
        self.store_retry_s = store_retry_s
        #: Set on shutdown: a cancelled attempt is then handed back, not ended.
        self.stopping = stopping
        self.clock = clock

    def complete(self, task: Task, fence: Fence, run: RunResult) -> errors.VidtaskError | None:
        """Save the artifacts and write the result; the error to fail with if they could not
        be saved."""
        stills = [run.cover, run.thumbnail, run.spritesheet]
        files = [run.video, *(still for still in stills if still), *run.previews]
        try:
            names = self.artifacts.save(task.id, task.attempt, files)
        except OSError as exc:
            log.error("saving artifacts failed: %s", exc, extra=fence_extra(fence))
            return self.unsaved(exc)
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
        won = self.retry(
            "progress",
            lambda: self.store.report(
                fence, now, self.lease_ttl, stage="saving", previews=previews
            ),
            fence,
        )
        won = won and self.finish(fence, now, Status.COMPLETED, result=result)
        if not won:  # cancelled or presumed dead meanwhile: this attempt's files are orphans
            self.artifacts.discard_attempt(task.id, task.attempt)
            log.warning("result discarded: lease lost", extra=fence_extra(fence))
        return None

    def fail(
        self, fence: Fence, error: errors.VidtaskError, workdir: Path, *, published: bool
    ) -> None:
        """End the attempt with ``error``. Its files go first: nothing will use them, and on a
        full disk the space they free lets the final write through."""
        self.artifacts.discard_attempt(fence.task_id, fence.attempt)
        shutil.rmtree(workdir, ignore_errors=True)
        now = self.clock()
        status = Status.CANCELLED if error.code == "cancelled" else Status.FAILED
        if status is Status.CANCELLED and self.stopping.is_set():
            # Shutdown, not a user's cancel: hand the task back without using an attempt.
            if self.retry("release", lambda: self.store.release(fence, now), fence):
                log.info("task handed back on shutdown", extra=fence_extra(fence))
                return
        if published:  # the task's preview links name the files just deleted
            self.retry(
                "progress",
                lambda: self.store.report(fence, now, self.lease_ttl, previews=[]),
                fence,
            )
        self.finish(fence, now, status, error=error.to_dict())
        log.info("task %s: %s", status.value, error.message, extra=fence_extra(fence))

    def finish(self, fence: Fence, now: float, status: Status, **fields: Any) -> bool:
        """The terminal write, retried. A retry that finds the task finished by this very write
        (the connection dropped after the commit, before the answer) counts as won."""
        tries = 0

        def finish() -> bool:
            nonlocal tries
            tries += 1
            return self.store.finish(fence, now, status, **fields)

        if self.retry("finish", finish, fence):
            return True
        if tries == 1:
            return False
        task = self.retry("finish check", lambda: self.store.get(fence.task_id), fence)
        return (
            task is not None
            and task.status is status
            and task.attempt == fence.attempt
            and task.completed_at == now
        )

    def retry(self, what: str, call: Callable[[], T], fence: Fence) -> T:
        return retry_store(what, call, within=self.store_retry_s, extra=fence_extra(fence))

    def unsaved(self, exc: OSError) -> errors.VidtaskError:
        """The error of a task whose files could not be saved: a full disk, or an artifact
        store that failed (a bucket refusing or out of reach), both ``storage_error``."""
        if space.is_full(exc):
            return self.out_of_space()
        if isinstance(exc, ArtifactStoreError):
            return errors.StorageError(f"could not save the result: {exc.strerror}")
        return errors.VidtaskError(f"could not save the result: {exc.strerror or exc}")

    def out_of_space(self) -> errors.StorageError:
        root = self.artifacts.local_root
        if root is None:  # the artifacts are elsewhere: only the scratch files fill this disk
            return space.out_of_space(self.scratch_dir)
        return space.out_of_space(Path(os.path.commonpath([self.scratch_dir, root])))


def fence_extra(fence: Fence) -> dict[str, Any]:
    return {"task_id": fence.task_id, "attempt": fence.attempt, "worker": fence.worker_id}
