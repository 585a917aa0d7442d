"""The `ArtifactStore` contract: the same tests against the local directory, the in-memory
store (which, like an object store, has no local paths) and a real S3-protocol server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.s3 import Bucket
from vidtask import storage
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.settings import Settings
from vidtask.storage import leftovers
from vidtask.storage.base import ArtifactStore
from vidtask.storage.local import LocalArtifacts
from vidtask.storage.memory import MemoryArtifacts
from vidtask.store.base import Fence
from vidtask.store.sqlite import SQLiteStore

TASK = "vt_" + "a" * 26
OTHER = "vt_" + "b" * 26


@pytest.fixture(params=["local", "memory", "s3"])
def artifacts(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifacts(tmp_path / "artifacts")
    if request.param == "s3":
        bucket: Bucket = request.getfixturevalue("bucket")
        return bucket.store()
    return MemoryArtifacts(chunk=4)


def scratch_files(folder: Path, **files: bytes) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name, data in files.items():
        path = folder / name.replace("_", ".")
        path.write_bytes(data)
        made.append(path)
    return made


def read(artifacts: ArtifactStore, name: str, start: int = 0, stop: int | None = None) -> bytes:
    return b"".join(artifacts.read_range(TASK, name, start, stop))


def test_save_moves_files_in_and_names_them_by_attempt(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    files = scratch_files(tmp_path / "scratch", video_mp4=b"0123456789", cover_jpg=b"jpeg")
    assert artifacts.save(TASK, 2, files) == ["2/video.mp4", "2/cover.jpg"]
    assert not any(file.exists() for file in files)  # moved, not copied
    assert artifacts.names(TASK, 2) == ["2/cover.jpg", "2/video.mp4"]
    assert artifacts.names(TASK, 1) == [] and artifacts.names(OTHER, 2) == []
    info = artifacts.stat(TASK, "2/video.mp4")
    assert info is not None and info.size == 10 and info.modified <= time.time()
    assert read(artifacts, "2/video.mp4") == b"0123456789"


def test_byte_ranges(artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifacts.save(TASK, 1, scratch_files(tmp_path, video_mp4=b"0123456789"))
    assert read(artifacts, "1/video.mp4", 2, 7) == b"23456"
    assert read(artifacts, "1/video.mp4", 8) == b"89"
    assert read(artifacts, "1/video.mp4", 5, 99) == b"56789"
    assert read(artifacts, "1/video.mp4", 4, 4) == b""
    with pytest.raises(FileNotFoundError):
        artifacts.read_range(TASK, "1/missing.mp4")


@pytest.mark.parametrize(
    ("task_id", "name"),
    [
        (TASK, "1/missing.mp4"),
        (TASK, "../" + TASK + "/1/video.mp4"),
        (TASK, "1/../1/video.mp4"),
        ("task_1", "1/video.mp4"),
        ("vt_a/..", "1/video.mp4"),
        (OTHER, "1/video.mp4"),
    ],
)
def test_bad_or_unknown_names_find_nothing(
    artifacts: ArtifactStore, tmp_path: Path, task_id: str, name: str
) -> None:
    artifacts.save(TASK, 1, scratch_files(tmp_path, video_mp4=b"v"))
    assert artifacts.stat(task_id, name) is None
    assert artifacts.local_path(task_id, name) is None


def test_discard_attempt_and_delete(artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifacts.save(TASK, 1, scratch_files(tmp_path / "a", video_mp4=b"1"))
    artifacts.save(TASK, 2, scratch_files(tmp_path / "b", video_mp4=b"2"))
    artifacts.save(OTHER, 1, scratch_files(tmp_path / "c", video_mp4=b"3"))
    artifacts.discard_attempt(TASK, 1)
    assert artifacts.stat(TASK, "1/video.mp4") is None
    assert artifacts.stat(TASK, "2/video.mp4") is not None
    artifacts.discard_attempt(TASK, 7)  # nothing there: no error
    artifacts.delete(TASK)
    assert artifacts.names(TASK, 2) == []
    assert read_other(artifacts) == b"3"
    artifacts.delete("../x")  # never a path


def read_other(artifacts: ArtifactStore) -> bytes:
    return b"".join(artifacts.read_range(OTHER, "1/video.mp4"))


def test_local_paths_only_from_the_local_directory(tmp_path: Path) -> None:
    local = LocalArtifacts(tmp_path / "artifacts")
    local.save(TASK, 1, scratch_files(tmp_path / "s", video_mp4=b"v"))
    found = local.local_path(TASK, "1/video.mp4")
    assert found == (tmp_path / "artifacts" / TASK / "1" / "video.mp4").resolve()
    assert local.local_root == tmp_path / "artifacts"
    memory = MemoryArtifacts()
    memory.save(TASK, 1, scratch_files(tmp_path / "m", video_mp4=b"v"))
    assert memory.local_path(TASK, "1/video.mp4") is None and memory.local_root is None


def test_a_link_out_of_the_task_folder_is_not_an_artifact(tmp_path: Path) -> None:
    local = LocalArtifacts(tmp_path / "artifacts")
    (tmp_path / "secret.txt").write_text("no")
    folder = tmp_path / "artifacts" / TASK / "1"
    folder.mkdir(parents=True)
    (folder / "video.mp4").symlink_to(tmp_path / "secret.txt")
    assert local.names(TASK, 1) == [] and local.stat(TASK, "1/video.mp4") is None


def test_open_artifacts_picks_the_local_directory(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=0)
    opened = storage.open_artifacts(settings)
    assert isinstance(opened, LocalArtifacts) and opened.local_root == settings.artifacts_dir
    assert settings.artifacts_dir is not None and settings.artifacts_dir.is_dir()
    elsewhere = Settings(data_dir=tmp_path / "data", artifacts_url=f"file://{tmp_path}/shared")
    assert storage.open_artifacts(elsewhere).local_root == tmp_path / "shared"


def test_no_store_links_its_files_by_itself_unless_asked(artifacts: ArtifactStore) -> None:
    """None: the service links through vidtask's own signed /v1/files route."""
    assert artifacts.url(TASK, "1/video.mp4", int(time.time()) + 60) is None


def test_the_leftovers_sweep_works_on_any_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    store.create(Task.create(TaskSpec("timeline", {}), owner="o", now=1))
    task = store.claim("w1", (), time.time(), 30)
    assert task is not None
    artifacts = MemoryArtifacts()
    artifacts.save(task.id, 1, scratch_files(tmp_path / "p", preview_1_jpg=b"jpeg"))
    (tmp_path / "scratch" / task.id / "1").mkdir(parents=True)
    assert leftovers.sweep(tmp_path / "scratch", artifacts, store.get) == []  # still running
    store.finish(Fence(task.id, "w1", 1), time.time(), Status.FAILED, error={"code": "x"})
    assert leftovers.sweep(tmp_path / "scratch", artifacts, store.get) == [(task.id, 1)]
    assert artifacts.files == {}
