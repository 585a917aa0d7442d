"""`RunContext.checkpoint` as a worker wires it: fenced by (worker, attempt), retried while the
store is away, and a refused one stops the run."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from vidtask.backends.base import RunContext, RunResult
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.dispatch import worker as worker_module
from vidtask.dispatch.worker import Worker
from vidtask.storage.local import LocalArtifacts
from vidtask.store.base import Fence
from vidtask.store.sqlite import SQLiteStore


class Provider:
    """A backend that submits to a provider and checkpoints the job id before polling it;
    ``steal``: the supervisor presumes it dead first."""

    name = "timeline"
    description = "test"

    def __init__(self, *, steal: bool = False) -> None:
        self.steal = steal
        self.store: SQLiteStore | None = None
        self.saved: list[bool] = []
        self.cancelled = False

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def input_schema(self) -> dict[str, Any]:
        return {}

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        if self.steal and self.store is not None:
            self.store.recover(1e12, worker_id="w1")
        self.saved.append(ctx.checkpoint({"provider": "ark", "job_id": "cgt-1"}))
        self.saved.append(ctx.checkpoint({"status_url": "https://ark.example/cgt-1"}))
        self.cancelled = ctx.cancel.is_set()
        video = ctx.workdir / "video.mp4"
        video.write_bytes(b"not really a video")
        return RunResult(video=video, format="mp4", metadata={})


class Away:
    """The store, except that ``checkpoint`` raises ``failures`` times first."""

    def __init__(self, store: SQLiteStore, failures: int) -> None:
        self.store = store
        self.failures = failures

    def checkpoint(self, fence: Fence, now: float, ref: dict[str, Any]) -> bool:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        return self.store.checkpoint(fence, now, ref)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def run(tmp_path: Path, backend: Provider, away: int = 0, retry_s: float = 60.0) -> Task:
    store = SQLiteStore(tmp_path / "db.sqlite")
    backend.store = store
    task, _ = store.create(Task.create(TaskSpec("timeline", {}), owner="o", now=1))
    worker = Worker(
        worker_id="w1",
        store=Away(store, away),
        backends={"timeline": backend},
        artifacts=LocalArtifacts(tmp_path / "artifacts"),
        scratch_dir=tmp_path / "scratch",
        lease_ttl=30,
        poll_s=0.01,
        store_retry_s=retry_s,
    )
    claimed = store.claim("w1", ("timeline",), 2, 30)
    assert claimed is not None
    worker.run_task(claimed)
    done = store.get(task.id)
    assert done is not None
    return done


def test_a_checkpoint_is_saved_on_the_task(tmp_path: Path) -> None:
    backend = Provider()
    done = run(tmp_path, backend)
    assert backend.saved == [True, True] and not backend.cancelled
    assert done.status is Status.COMPLETED
    assert done.external_ref["checkpoint"] == {
        "provider": "ark",
        "job_id": "cgt-1",
        "status_url": "https://ark.example/cgt-1",
    }


def test_a_checkpoint_is_retried_while_the_store_is_away(tmp_path: Path) -> None:
    backend = Provider()
    done = run(tmp_path, backend, away=2)
    assert backend.saved == [True, True] and done.status is Status.COMPLETED
    assert done.external_ref["checkpoint"]["job_id"] == "cgt-1"


def test_a_refused_checkpoint_stops_the_run(tmp_path: Path) -> None:
    backend = Provider(steal=True)
    done = run(tmp_path, backend)
    assert backend.saved == [False, False] and backend.cancelled
    assert done.status is Status.QUEUED and "checkpoint" not in done.external_ref


def test_a_store_away_for_good_leaves_the_task_to_its_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "RETRY_FIRST_S", 0.01)
    backend = Provider()
    done = run(tmp_path, backend, away=1000, retry_s=0.05)
    assert backend.saved == []  # the run ended at the checkpoint
    assert done.status is Status.IN_PROGRESS and done.error is None  # not failed: left as is
    assert (tmp_path / "scratch" / done.id / "1").is_dir()  # marked for the leftovers sweep


def test_a_run_outside_a_worker_checkpoints_nowhere(tmp_path: Path) -> None:
    ctx = RunContext("t", 1, tmp_path, None, threading.Event())  # type: ignore[arg-type]
    assert ctx.checkpoint({"job_id": "x"})
