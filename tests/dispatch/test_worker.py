"""The worker loop against a real SQLite store, with small backends written for the test."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from tests.s3 import Bucket
from vidtask.backends.base import RunContext, RunResult
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.dispatch.worker import Worker
from vidtask.storage.base import ArtifactStore
from vidtask.storage.local import LocalArtifacts
from vidtask.storage.s3 import S3Artifacts
from vidtask.store.sqlite import SQLiteStore


class FileBackend:
    """Writes a small file as its 'video'; optionally does something nasty first."""

    name = "timeline"
    description = "test"

    def __init__(self, action: str = "ok", store: SQLiteStore | None = None) -> None:
        self.action = action
        self.store = store

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def input_schema(self) -> dict[str, Any]:
        return {}

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        ctx.reporter.stage("rendering")
        ctx.reporter.progress(50)
        if self.action == "crash":
            raise RuntimeError("secret internals")
        if self.action == "steal" and self.store is not None:
            self.store.recover(1e12, worker_id="w1")  # the supervisor presumed us dead
        if self.action == "preview":
            frame = ctx.workdir / "preview_1.jpg"
            frame.write_bytes(b"jpeg")
            ctx.reporter.preview(frame)
        video = ctx.workdir / "video.mp4"
        video.write_bytes(b"not really a video")
        return RunResult(video=video, format="mp4", metadata={"duration": 1.0})


class FullDisk(LocalArtifacts):
    def save(self, task_id: str, attempt: int, files: list[Path]) -> list[str]:
        raise OSError(errno.ENOSPC, "No space left on device")


def setup(
    tmp_path: Path, backend: FileBackend, artifacts: ArtifactStore | None = None
) -> tuple[SQLiteStore, Worker, Task]:
    store = SQLiteStore(tmp_path / "db.sqlite")
    backend.store = store
    task, _ = store.create(Task.create(TaskSpec("timeline", {}), owner="o", now=1))
    worker = Worker(
        worker_id="w1",
        store=store,
        backends={"timeline": backend},
        artifacts=artifacts or LocalArtifacts(tmp_path / "artifacts"),
        scratch_dir=tmp_path / "scratch",
        lease_ttl=30,
        poll_s=0.01,
    )
    return store, worker, task


def run_one(store: SQLiteStore, worker: Worker) -> None:
    claimed = store.claim("w1", ("timeline",), 2, 30)
    assert claimed is not None
    worker.run_task(claimed)


def test_completes_and_stores_artifacts(tmp_path: Path) -> None:
    store, worker, task = setup(tmp_path, FileBackend())
    run_one(store, worker)
    done = store.get(task.id)
    assert done is not None and done.status is Status.COMPLETED and done.progress == 100
    assert done.result is not None and done.result["video"] == "1/video.mp4"
    assert (tmp_path / "artifacts" / task.id / "1" / "video.mp4").exists()
    assert not (tmp_path / "scratch" / task.id / "1").exists()


def test_a_crashing_backend_fails_the_task_without_leaking(tmp_path: Path) -> None:
    store, worker, task = setup(tmp_path, FileBackend("crash"))
    run_one(store, worker)
    failed = store.get(task.id)
    assert failed is not None and failed.status is Status.FAILED
    assert failed.error is not None and failed.error["code"] == "render_failed"
    assert "secret" not in failed.error["message"]


def test_a_full_disk_fails_the_task_clearly(tmp_path: Path) -> None:
    store, worker, task = setup(tmp_path, FileBackend(), FullDisk(tmp_path / "artifacts"))
    run_one(store, worker)
    failed = store.get(task.id)
    assert failed is not None and failed.status is Status.FAILED
    assert failed.error is not None and failed.error["code"] == "storage_error"
    assert failed.error["message"].startswith(f"no space left on {tmp_path} (")


def test_a_result_goes_into_the_bucket(tmp_path: Path, bucket: Bucket) -> None:
    store, worker, task = setup(tmp_path, FileBackend("preview"), bucket.store())
    run_one(store, worker)
    done = store.get(task.id)
    assert done is not None and done.status is Status.COMPLETED
    assert bucket.keys() == [
        f"vidtask/{task.id}/1/preview_1.jpg",
        f"vidtask/{task.id}/1/video.mp4",
    ]
    assert not (tmp_path / "scratch" / task.id).exists()


@pytest.mark.parametrize("action", ["ok", "preview"])
def test_a_failed_upload_fails_the_task_clearly(
    tmp_path: Path, bucket: Bucket, action: str
) -> None:
    """The bucket is gone: the result (or an early preview frame) cannot be saved, so the task
    fails as storage_error naming the bucket; it is never completed without its file."""
    gone = S3Artifacts(f"{bucket.name}-gone", "p", client=bucket.client)
    store, worker, task = setup(tmp_path, FileBackend(action), gone)
    run_one(store, worker)
    failed = store.get(task.id)
    assert failed is not None and failed.status is Status.FAILED and failed.result is None
    assert failed.error is not None and failed.error["code"] == "storage_error"
    message = failed.error["message"]
    assert message.startswith(
        f"could not save the result: could not upload to s3://{bucket.name}-gone/p/{task.id}/1/"
    )
    assert "NoSuchBucket" in message
    assert not (tmp_path / "scratch" / task.id).exists()


def test_a_worker_that_lost_its_lease_discards_its_result(tmp_path: Path) -> None:
    store, worker, task = setup(tmp_path, FileBackend("steal"))
    run_one(store, worker)
    requeued = store.get(task.id)
    assert requeued is not None and requeued.status is Status.QUEUED and requeued.result is None
    assert not (tmp_path / "artifacts" / task.id / "1").exists()


def test_unknown_model_fails(tmp_path: Path) -> None:
    store, worker, task = setup(tmp_path, FileBackend())
    worker.backends = {"slides": FileBackend()}
    claimed = store.claim("w1", (), 2, 30)
    assert claimed is not None
    worker.run_task(claimed)
    failed = store.get(task.id)
    assert failed is not None and failed.error is not None
    assert "no backend serves model 'timeline'" in failed.error["message"]


def test_a_stopped_worker_claims_nothing(tmp_path: Path) -> None:
    store, worker, task = setup(tmp_path, FileBackend())
    worker.stop()
    worker.run_forever()  # returns at once
    queued = store.get(task.id)
    assert queued is not None and queued.status is Status.QUEUED
