"""Artifacts served from a store that is not on the local filesystem (the in-memory one stands
in for an object store): signed files with Range, OpenAI's content download, the derived last
frame; and the same answers as the local directory's."""

from __future__ import annotations

import io
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from vidtask.core.task import Status, Task, TaskSpec
from vidtask.storage.memory import MemoryArtifacts
from vidtask.store.base import Fence
from vidtask.web import downloads
from vidtask.web.state import AppState

VIDEO = bytes(range(256)) * 40  # 10,240 bytes


def app_state(client: TestClient) -> AppState:
    found: AppState = client.app.state.vidtask  # type: ignore[attr-defined]
    return found


def completed(client: TestClient, tmp_path: Path, video: bytes = VIDEO) -> Task:
    """A finished task whose files went into the app's artifact store."""
    service = app_state(client).service
    service.store.create(Task.create(TaskSpec("timeline", {}), owner="anonymous", now=1))
    task = service.store.claim("w1", (), time.time(), 30)
    assert task is not None
    scratch = tmp_path / "scratch"
    scratch.mkdir(parents=True)
    (scratch / "video.mp4").write_bytes(video)
    (scratch / "thumbnail.jpg").write_bytes(b"jpeg")
    names = service.artifacts.save(
        task.id, task.attempt, [scratch / "video.mp4", scratch / "thumbnail.jpg"]
    )
    result = {"video": names[0], "thumbnail": names[1], "format": "mp4", "metadata": {}}
    fence = Fence(task.id, "w1", task.attempt)
    assert service.store.finish(fence, time.time(), Status.COMPLETED, result=result)
    done = service.store.get(task.id)
    assert done is not None
    return done


def file_url(client: TestClient, task: Task, name: str) -> str:
    service = app_state(client).service
    return httpx.URL(service.signer.url(task.id, name, time.time())).raw_path.decode()


@pytest.fixture
def memory(client: TestClient) -> MemoryArtifacts:
    store = MemoryArtifacts(clock_s=1_700_000_000.0, chunk=1000)
    app_state(client).service.artifacts = store
    return store


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        (None, None),
        ("bytes=0-99", (0, 100)),
        ("bytes=100-", (100, 1000)),
        ("bytes=-10", (990, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=990-5000", (990, 1000)),
        ("BYTES = 1 - 2", (1, 3)),
        ("bytes=1000-", "unsatisfiable"),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=5-1", None),
        ("bytes=-", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=1_0-20", None),
        ("bytes=\u0661-2", None),
    ],
)
def test_byte_range(header: str | None, wanted: object) -> None:
    assert downloads.byte_range(header, 1000) == wanted


def test_signed_files_stream_from_a_store_without_paths(
    client: TestClient, memory: MemoryArtifacts, tmp_path: Path
) -> None:
    task = completed(client, tmp_path)
    url = file_url(client, task, "1/video.mp4")
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == VIDEO
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-length"] == str(len(VIDEO))
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    part = client.get(url, headers={"Range": "bytes=1000-2499"})
    assert part.status_code == 206 and part.content == VIDEO[1000:2500]
    assert part.headers["content-range"] == f"bytes 1000-2499/{len(VIDEO)}"
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == VIDEO[-10:]
    beyond = client.get(url, headers={"Range": f"bytes={len(VIDEO)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(VIDEO)}"
    memory.delete(task.id)
    assert client.get(url).status_code == 404


def test_ranges_match_the_local_directory(client: TestClient, tmp_path: Path) -> None:
    service = app_state(client).service
    local_store, memory_store = service.artifacts, MemoryArtifacts()
    local = completed(client, tmp_path / "local")
    service.artifacts = memory_store
    remote = completed(client, tmp_path / "memory")
    for header in ("bytes=0-99", "bytes=5000-", "bytes=-77", "bytes=999999-"):
        answers = []
        for store, task in ((local_store, local), (memory_store, remote)):
            service.artifacts = store
            url = file_url(client, task, "1/video.mp4")
            answers.append(client.get(url, headers={"Range": header}))
        first, second = answers
        assert (first.status_code, first.content) == (second.status_code, second.content)
        for name in ("content-range", "content-type", "accept-ranges"):
            assert first.headers.get(name) == second.headers.get(name), (header, name)


def test_openai_content_from_a_store_without_paths(
    client: TestClient, memory: MemoryArtifacts, tmp_path: Path
) -> None:
    task = completed(client, tmp_path)
    content = client.get(f"/v1/videos/{task.id}/content")
    assert content.status_code == 200 and content.content == VIDEO
    assert content.headers["content-type"] == "video/mp4"
    part = client.get(f"/v1/videos/{task.id}/content", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == VIDEO[:100]
    thumb = client.get(f"/v1/videos/{task.id}/content", params={"variant": "thumbnail"})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    none = client.get(f"/v1/videos/{task.id}/content", params={"variant": "spritesheet"})
    assert none.status_code == 404


def tiny_video(frames: int = 12) -> bytes:
    """An MP4 whose frames get brighter; the last is the brightest."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 12)
        for i in range(frames):
            pixels = np.full((48, 64, 3), 20 * i, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def test_the_last_frame_is_made_through_a_store_without_paths(
    client: TestClient, memory: MemoryArtifacts, tmp_path: Path
) -> None:
    task = completed(client, tmp_path, tiny_video())
    url = file_url(client, task, "1/last_frame.png")
    png = client.get(url)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(png.content))
    assert picture.format == "PNG" and picture.size == (64, 48)
    assert abs(float(np.asarray(picture.convert("L")).mean()) - 220) < 8
    assert memory.names(task.id, 1) == ["1/last_frame.png", "1/thumbnail.jpg", "1/video.mp4"]
    assert client.get(url).content == png.content  # made once, then served from the store
    no_video = file_url(client, task, "2/last_frame.png")
    assert client.get(no_video).status_code == 404
