"""Preview frames reported during a run show up on the stored task at once, and the final result
names the thumbnail and sprite sheet (real worker, real SQLite store, real artifact folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidtask.backends.base import RunContext, RunResult
from vidtask.core.task import Status, Task, TaskSpec
from vidtask.dispatch.worker import Worker
from vidtask.storage.local import LocalArtifacts
from vidtask.store.sqlite import SQLiteStore

__all__: list[str] = []

JPEG = b"\xff\xd8\xff\xe0 a tiny stand-in for a JPEG"


class PreviewingBackend:
    """Reports two previews, checking the store after each, then returns every artifact."""

    name = "timeline"
    description = "test"

    def __init__(self) -> None:
        self.store: SQLiteStore | None = None
        self.task_id = ""
        self.seen: list[list[dict[str, Any]]] = []

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def input_schema(self) -> dict[str, Any]:
        return {}

    def run(self, data: dict[str, Any], ctx: RunContext) -> RunResult:
        assert self.store is not None
        ctx.reporter.stage("rendering")
        previews = []
        for n in (1, 2):
            path = ctx.workdir / f"preview_{n}.jpg"
            path.write_bytes(JPEG + bytes([n]))
            previews.append(path)
            ctx.reporter.preview(path)
            assert path.exists()  # the reporter copies; the file stays for the result
            task = self.store.get(self.task_id)
            assert task is not None and task.status is Status.IN_PROGRESS
            self.seen.append(task.previews)
        files = {}
        for name in ("video.mp4", "cover.jpg", "thumbnail.jpg", "spritesheet.jpg"):
            files[name] = ctx.workdir / name
            files[name].write_bytes(JPEG)
        return RunResult(
            video=files["video.mp4"],
            format="mp4",
            metadata={"duration": 1.0},
            cover=files["cover.jpg"],
            thumbnail=files["thumbnail.jpg"],
            spritesheet=files["spritesheet.jpg"],
            previews=previews,
        )


def test_previews_grow_while_running_and_artifacts_are_named(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    backend = PreviewingBackend()
    backend.store = store
    task, _ = store.create(Task.create(TaskSpec("timeline", {}), owner="o", now=1))
    backend.task_id = task.id
    artifacts = LocalArtifacts(tmp_path / "artifacts")
    worker = Worker(
        worker_id="w1",
        store=store,
        backends={"timeline": backend},
        artifacts=artifacts,
        scratch_dir=tmp_path / "scratch",
        lease_ttl=30,
        poll_s=0.01,
    )
    claimed = store.claim("w1", ("timeline",), 2, 30)
    assert claimed is not None
    worker.run_task(claimed)

    first = {"id": "frame1", "name": "1/preview_1.jpg"}
    second = {"id": "frame2", "name": "1/preview_2.jpg"}
    assert backend.seen == [[first], [first, second]]
    done = store.get(task.id)
    assert done is not None and done.status is Status.COMPLETED
    assert done.previews == [first, second]
    assert done.result is not None
    assert done.result["thumbnail"] == "1/thumbnail.jpg"
    assert done.result["spritesheet"] == "1/spritesheet.jpg"
    assert done.result["cover"] == "1/cover.jpg"
    for name in ("preview_1.jpg", "preview_2.jpg", "thumbnail.jpg", "spritesheet.jpg"):
        path = artifacts.path(task.id, f"1/{name}")
        assert path is not None and path.read_bytes().startswith(JPEG)
    assert artifacts.path(task.id, "1/preview_2.jpg").read_bytes()[-1] == 2  # type: ignore[union-attr]
