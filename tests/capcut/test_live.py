"""End to end over real HTTP against a real server with worker processes: the capcut-mate
workflow rendered and probed frame by frame, and restarts between calls and during the render."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.capcut.conftest import PREFIX, Media
from tests.integration.conftest import Server
from vidtask.render import probe

pytestmark = pytest.mark.slow


def call(client: httpx.Client, name: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"{PREFIX}/{name}", json=body)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def poll(client: httpx.Client, url: str, until: set[str], timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = call(client, "gen_video_status", {"draft_url": url})
        if status["status"] in until:
            return status
        time.sleep(0.2)
    raise AssertionError(f"timed out: {status}")


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {seconds}")


def download(client: httpx.Client, url: str, dest: Path) -> Path:
    dest.write_bytes(client.get(url).content)
    return dest


def build(client: httpx.Client, media: Media, *, restart: Server | None = None) -> str:
    """The workflow's editing calls; with ``restart``, the server restarts between them."""

    def maybe_restart() -> None:
        if restart is not None:
            restart.stop()
            restart.start()

    url = str(call(client, "create_draft", {"width": 320, "height": 180})["draft_url"])
    maybe_restart()
    call(
        client,
        "add_images",
        {
            "draft_url": url,
            "image_infos": json.dumps(
                [{"image_url": str(media.image), "start": 0, "end": 1_000_000}]
            ),
        },
    )
    maybe_restart()
    call(
        client,
        "add_videos",
        {
            "draft_url": url,
            "video_infos": json.dumps(
                [{"video_url": str(media.video), "start": 1_000_000, "end": 2_500_000}]
            ),
        },
    )
    maybe_restart()
    call(
        client,
        "add_audios",
        {
            "draft_url": url,
            "audio_infos": json.dumps(
                [{"audio_url": str(media.audio), "start": 0, "end": 2_500_000, "volume": 0.8}]
            ),
        },
    )
    call(client, "add_captions", {"draft_url": url, "font_size": 45, "transform_y": 60,
        "captions": json.dumps([{"start": 200_000, "end": 800_000, "text": "HELLO"}])})  # fmt: skip
    call(client, "save_draft", {"draft_url": url})
    return url


def test_workflow_end_to_end(tmp_path: Path, media: Media) -> None:
    server = Server(tmp_path / "data", media.root).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            url = build(client, media)
            call(client, "gen_video", {"draft_url": url})
            seen_progress = []
            deadline = time.monotonic() + 90
            while (status := call(client, "gen_video_status", {"draft_url": url}))[
                "status"
            ] not in ("completed", "failed"):
                seen_progress.append(status["progress"])
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert status["status"] == "completed", status
            assert status["progress"] == 100 and status["error_message"] == ""
            assert status["started_at"] and status["completed_at"]
            assert seen_progress == sorted(seen_progress)  # real progress never goes down
            video = download(client, status["video_url"], tmp_path / "out.mp4")
    finally:
        server.stop()
    meta = probe.probe_output(video)
    assert meta["width"] == 320 and meta["height"] == 180 and meta["has_audio"]
    assert abs(meta["duration"] - 2.5) < 0.15
    green, caption_rows = frame_at(video, 0.5), slice(120, 175)
    # 0-1 s: the green image, with the caption (white) low in the frame from 0.2 to 0.8 s.
    assert green[40:60, 20:60, 1].mean() > 150 and green[40:60, 20:60, 2].mean() < 60
    assert (green[caption_rows].min(axis=2) > 230).sum() > 50
    after = frame_at(video, 0.9)
    assert (after[caption_rows].min(axis=2) > 230).sum() == 0
    # 1-2.5 s: the blue video.
    blue = frame_at(video, 1.8)
    assert blue[80:100, 100:200, 2].mean() > 150 and blue[80:100, 100:200, 1].mean() < 80


def test_restarts_between_calls_and_during_the_render(tmp_path: Path, media: Media) -> None:
    server = Server(tmp_path / "data", media.root, VIDTASK_WORKERS="1").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            url = build(client, media, restart=server)
            task_id = call(client, "gen_video", {"draft_url": url})["task_id"]
            running = poll(client, url, {"processing", "completed"})
            server.kill()  # the worker dies with the server, mid-render
            server.start()
            # The draft and its task survived; the render is retried after the lease expires,
            # and gen_video meanwhile answers with that same render.
            if running["status"] == "processing":
                assert call(client, "gen_video", {"draft_url": url})["task_id"] == task_id
            done = poll(client, url, {"completed", "failed"})
            assert done["status"] == "completed", done
            task = client.get(f"/v1/tasks/{task_id}").json()
            assert task["status"] == "completed" and task["attempt"] >= 1
            # After completion gen_video starts a new render of the same draft.
            again = call(client, "gen_video", {"draft_url": url})["task_id"]
            assert again != task_id
            assert poll(client, url, {"completed", "failed"})["status"] == "completed"
    finally:
        server.stop()
