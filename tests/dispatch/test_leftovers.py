"""The files of attempts that died (a killed worker, a lost lease) are deleted once the task has
moved on; a running attempt's files and a completed task's result are never touched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.dispatch.embedded import EmbeddedDispatcher
from vidtask.settings import Settings
from vidtask.storage import leftovers
from vidtask.storage.local import LocalArtifacts
from vidtask.store.base import Fence
from vidtask.store.sqlite import SQLiteStore


def attempt_files(root: Path, task_id: str, attempt: int) -> None:
    """What a killed attempt leaves: a scratch folder with a half render, published previews."""
    scratch = root / "scratch" / task_id / str(attempt)
    scratch.mkdir(parents=True)
    (scratch / "out.mp4").write_bytes(b"half a video")
    previews = root / "artifacts" / task_id / str(attempt)
    previews.mkdir(parents=True)
    (previews / "preview_1.jpg").write_bytes(b"jpeg")


def exists(root: Path, task_id: str, attempt: int) -> tuple[bool, bool]:
    return (
        (root / "scratch" / task_id / str(attempt)).exists(),
        (root / "artifacts" / task_id / str(attempt)).exists(),
    )


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "db.sqlite")


def running(store: SQLiteStore, worker: str = "w1") -> Task:
    store.create(Task.create(TaskSpec("timeline", {}), owner="o", now=1))
    task = store.claim(worker, (), time.time(), 30)
    assert task is not None
    return task


def test_only_attempts_that_are_over_are_swept(tmp_path: Path, store: SQLiteStore) -> None:
    artifacts = LocalArtifacts(tmp_path / "artifacts")
    alive = running(store, "w1")
    requeued = running(store, "w2")
    failed = running(store, "w3")
    done = running(store, "w4")
    for task in (alive, requeued, failed, done):
        attempt_files(tmp_path, task.id, 1)
    store.recover(time.time(), worker_id="w2")  # w2 died: queued again, attempt 1 is over
    store.finish(Fence(failed.id, "w3", 1), time.time(), Status.FAILED, error={"code": "x"})
    store.finish(Fence(done.id, "w4", 1), time.time(), Status.COMPLETED, result={})
    (tmp_path / "scratch" / "audio_timelines_x").mkdir()  # an API request's scratch: not ours

    swept = leftovers.sweep(tmp_path / "scratch", artifacts, store.get)

    assert sorted(swept) == sorted([(requeued.id, 1), (failed.id, 1), (done.id, 1)])
    assert exists(tmp_path, alive.id, 1) == (True, True)
    assert exists(tmp_path, requeued.id, 1) == (False, False)
    assert exists(tmp_path, failed.id, 1) == (False, False)
    assert exists(tmp_path, done.id, 1) == (False, True)  # the result stays
    assert not (tmp_path / "scratch" / failed.id).exists()
    assert (tmp_path / "scratch" / "audio_timelines_x").exists()


def test_a_live_tasks_folder_stays_even_when_its_old_attempt_is_swept(
    tmp_path: Path, store: SQLiteStore
) -> None:
    """A requeued task's next attempt makes ``<task>/<attempt>`` any moment: removing the task's
    folder in between once broke that mkdir (a relayed task crashed and stayed stuck)."""
    task = running(store, "w2")
    attempt_files(tmp_path, task.id, 1)
    store.recover(time.time(), worker_id="w2")
    artifacts = LocalArtifacts(tmp_path / "artifacts")

    assert leftovers.sweep(tmp_path / "scratch", artifacts, store.get) == [(task.id, 1)]
    assert (tmp_path / "scratch" / task.id).is_dir()  # queued: its folder is left
    store.claim("w3", (), time.time(), 30)
    store.finish(Fence(task.id, "w3", 2), time.time(), Status.FAILED, error={"code": "x"})
    assert leftovers.sweep(tmp_path / "scratch", artifacts, store.get) == []
    assert not (tmp_path / "scratch" / task.id).exists()  # ended: the empty folder goes


def test_a_handed_back_attempt_is_left_to_its_own_worker(store: SQLiteStore) -> None:
    task = running(store)
    assert store.release(Fence(task.id, "w1", 1), time.time())
    handed_back = store.get(task.id)
    assert handed_back is not None and handed_back.attempt == 0
    assert not leftovers.is_over(handed_back, 1)  # the next claim runs attempt 1 again
    assert leftovers.is_over(None, 1)


def test_the_embedded_dispatcher_sweeps_what_a_dead_server_left(
    tmp_path: Path, store: SQLiteStore
) -> None:
    settings = Settings(data_dir=tmp_path, workers=0)
    task = running(store)
    attempt_files(tmp_path, task.id, 1)
    dispatcher = EmbeddedDispatcher(settings, store)
    dispatcher.start()  # recovers the task (queued again) and deletes the dead attempt's files
    try:
        assert exists(tmp_path, task.id, 1) == (False, False)
    finally:
        dispatcher.stop()
