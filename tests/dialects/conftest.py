"""Shared pieces of the dialect tests: the app in-process, a real worker to finish tasks, golden
fixtures and a structural comparison of JSON shapes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vidtask.api.app import create_app
from vidtask.backends import registry
from vidtask.core.task import Links, Status, Task
from vidtask.dispatch.worker import Worker
from vidtask.settings import Settings
from vidtask.web.state import AppState

FIXTURES = Path(__file__).with_name("fixtures")


def generation_model() -> str:
    """The local model prompt-style requests go to: ``slides`` once it exists, else the
    ``timeline`` title card."""
    backends = registry.build_backends(Settings(data_dir=Path("/nonexistent"), workers=0))
    return "slides" if "slides" in backends else "timeline"


GEN_MODEL = generation_model()
ALIASES = {"sora-2": GEN_MODEL, "sora-2-*": GEN_MODEL, "doubao-seedance-*": GEN_MODEL}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def shape(value: Any) -> Any:
    """Field names and JSON types, recursively; a list is the shape of its first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__


def make_task(**changes: Any) -> Task:
    """A task as the store would hold it (for the pure views)."""
    base = Task(
        id="vt_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        owner="anonymous",
        model=GEN_MODEL,
        input={"width": 1280, "height": 720, "seconds": 8.0},
        status=Status.QUEUED,
        stage="queued",
        progress=0.0,
        created_at=1712697600.25,
        updated_at=1712697600.25,
        version=1,
    )
    return base.evolve(**changes)


def completed(task: Task, **changes: Any) -> Task:
    result = {
        "video": "1/video.mp4",
        "cover": "1/cover.jpg",
        "thumbnail": "1/thumbnail.jpg",
        "spritesheet": "1/spritesheet.jpg",
        "format": "mp4",
        "metadata": {"duration": 5.0, "fps": 24, "width": 1280, "height": 720},
    }
    return task.evolve(
        status=Status.COMPLETED,
        stage="done",
        progress=100.0,
        result=result,
        completed_at=task.created_at + 120,
        updated_at=task.created_at + 120,
        **changes,
    )


LINKS = Links(
    video_url="https://v.example/v1/files/vt_a/1/video.mp4?exp=1&sig=a",
    cover_url="https://v.example/v1/files/vt_a/1/cover.jpg?exp=1&sig=b",
    previews=(
        {"id": "frame1", "url": "https://v.example/v1/files/vt_a/1/preview_1.jpg?exp=1&sig=c"},
        {"id": "frame2", "url": "https://v.example/v1/files/vt_a/1/preview_2.jpg?exp=1&sig=d"},
    ),
    last_frame_url="https://v.example/v1/files/vt_a/1/last_frame.png?exp=1&sig=e",
)


@pytest.fixture
def settings(tmp_path: Path, asset_root: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", workers=0, asset_roots=[asset_root], model_aliases=ALIASES
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_workers=False), raise_server_exceptions=False) as c:
        yield c


def app_state(client: TestClient) -> AppState:
    state: AppState = client.app.state.vidtask  # type: ignore[attr-defined]
    return state


def run_queued(client: TestClient) -> None:
    """Render every queued task in this process with a real worker (real ffmpeg)."""
    app = app_state(client)
    service = app.service
    worker = Worker(
        worker_id="w_test",
        store=service.store,
        backends=service.backends,
        artifacts=service.artifacts,
        scratch_dir=app.settings.scratch_dir,
        lease_ttl=30.0,
        poll_s=0.05,
    )
    while task := service.store.claim("w_test", tuple(service.backends), time.time(), 30.0):
        worker.run_task(task)
