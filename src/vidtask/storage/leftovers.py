"""Files of attempts that could not clean up after themselves: a killed worker, a lost lease, a
store that stayed away.

Every attempt makes its scratch folder ``<scratch>/<task_id>/<attempt>`` first and removes it
last, so a folder left behind marks an attempt that never settled. Once the task shows that
attempt is over, `sweep` deletes the folder and, unless that attempt is the task's result, the
attempt's artifacts (preview frames, a half-saved result). Then it lets the store abort the
uploads that never finished (`ArtifactStore.sweep_uploads`: an object store's multipart upload
of a worker killed mid-upload, wherever that worker ran).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from vidtask.core.task import Status, Task
from vidtask.storage.base import ArtifactStore

__all__ = ["is_over", "sweep"]


def is_over(task: Task | None, attempt: int) -> bool:
    """Whether ``attempt`` of ``task`` can no longer be running nor come back.

    A task handed back on shutdown (``release``) is queued with ``attempt - 1`` and runs again
    as the same attempt: its own worker removes that folder, so it is not over here."""
    if task is None or task.status.terminal or task.attempt > attempt:
        return True
    # Recovered after its worker died: queued with the same attempt; the next claim takes +1.
    return task.status is Status.QUEUED and task.attempt == attempt


def sweep(
    scratch_dir: Path,
    artifacts: ArtifactStore,
    lookup: Callable[[str], Task | None],
    clock: Callable[[], float] = time.time,
) -> list[tuple[str, int]]:
    """Delete the files of every attempt that is over; returns ``(task_id, attempt)`` of each."""
    removed = _sweep_scratch(scratch_dir, artifacts, lookup) if scratch_dir.is_dir() else []
    artifacts.sweep_uploads(clock())
    return removed


def _sweep_scratch(
    scratch_dir: Path, artifacts: ArtifactStore, lookup: Callable[[str], Task | None]
) -> list[tuple[str, int]]:
    removed: list[tuple[str, int]] = []
    for task_dir in scratch_dir.iterdir():
        if not task_dir.name.startswith("vt_") or not task_dir.is_dir():
            continue  # e.g. an API request's scratch folder
        try:
            attempts = list(task_dir.iterdir())
        except FileNotFoundError:  # settled and removed meanwhile (another worker's sweep)
            continue
        for attempt_dir in attempts:
            if not attempt_dir.name.isdigit():
                continue
            attempt = int(attempt_dir.name)
            task = lookup(task_dir.name)
            if not is_over(task, attempt):
                continue
            shutil.rmtree(attempt_dir, ignore_errors=True)
            won = task is not None and task.status is Status.COMPLETED and task.attempt == attempt
            if not won:
                artifacts.discard_attempt(task_dir.name, attempt)
            removed.append((task_dir.name, attempt))
        owner = lookup(task_dir.name)
        if owner is not None and not owner.status.terminal:
            continue  # its next attempt may be making its folder in there right now
        try:
            task_dir.rmdir()  # only when empty
        except OSError:
            pass
    return removed
