"""Submit over real HTTP, render with real ffmpeg in real worker processes, probe the MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import av
import httpx
import numpy as np
import pytest

from tests.integration.conftest import Server, wait_for

pytestmark = pytest.mark.slow

TIMELINE = {
    "output": {"width": 320, "height": 180, "fps": 25},
    "tracks": [
        {
            "clips": [
                {"asset": {"type": "color", "color": "#ff0000"}, "start": 0, "length": 1},
                {"asset": {"type": "color", "color": "#0000ff"}, "start": 1, "length": 2},
            ]
        },
        {
            "clips": [
                {"asset": {"type": "image", "src": "image.png"}, "start": 2, "length": 0.5},
                {
                    "asset": {"type": "video", "src": "video.mp4", "trim": 1},
                    "start": 2.5,
                    "length": 0.5,
                },
            ]
        },
        {
            "clips": [
                {
                    "asset": {
                        "type": "text",
                        "text": "你好 vidtask",
                        "font_size": 28,
                        "color": "#ffffff",
                    },
                    "start": 1,
                    "length": 1,
                    "position": "bottom",
                }
            ]
        },
        {
            "clips": [
                {
                    "asset": {"type": "audio", "src": "music.m4a", "volume": 0.8},
                    "start": 0,
                    "length": 3,
                }
            ]
        },
    ],
}


def frame_at(path: str, t: float) -> np.ndarray:
    with av.open(path) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t}")


def test_render_end_to_end(server: Server, client: httpx.Client, tmp_path: Path) -> None:
    created = client.post("/v1/tasks", json={"model": "timeline", "input": TIMELINE})
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    stages = set()

    def done(task: dict[str, Any]) -> bool:
        stages.add(task["stage"])
        return task["status"] in ("completed", "failed", "cancelled")

    task = wait_for(client, task_id, done)
    assert task["status"] == "completed", task
    assert task["progress"] == 100 and task["stage"] == "done"
    meta = task["result"]["metadata"]
    assert (meta["width"], meta["height"], meta["fps"]) == (320, 180, 25)
    assert abs(meta["duration"] - 3.0) <= 1 / 25 + 1e-6
    assert meta["has_audio"] is True and meta["size_bytes"] > 0

    video = tmp_path / "out.mp4"
    video.write_bytes(client.get(task["result"]["video_url"]).content)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (320, 180)
        assert stream.average_rate is not None and round(float(stream.average_rate)) == 25
        assert len(container.streams.audio) == 1
        assert container.duration is not None
        assert abs(float(container.duration / av.time_base) - 3.0) <= 0.05
    red = frame_at(str(video), 0.5)[90, 160]
    blue = frame_at(str(video), 1.5)[40, 160]
    assert red[0] > 200 and red[2] < 60, red
    assert blue[2] > 200 and blue[0] < 60, blue
    text_row = frame_at(str(video), 1.5)[140:180].astype(int)
    assert (text_row.sum(axis=2) > 600).any(), "white text pixels expected at the bottom"
    image = frame_at(str(video), 2.2)[90, 160]
    assert not (image[2] > 200 and image[0] < 60), "the image covers the blue background"

    cover = client.get(task["result"]["cover_url"])
    assert cover.status_code == 200 and cover.content[:3] == b"\xff\xd8\xff"
    assert len(task["previews"]) >= 3
    for preview in task["previews"]:
        assert client.get(preview["url"]).content[:3] == b"\xff\xd8\xff"

    # Range requests and signed links.
    url = task["result"]["video_url"]
    partial = client.get(url, headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.content) == 100
    assert partial.headers["content-range"].startswith("bytes 0-99/")
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    tampered = f"{parsed.path}?exp={query['exp'][0]}&sig={'0' * 32}"
    assert client.get(tampered).status_code == 404
    expired = f"{parsed.path}?exp=1000&sig={query['sig'][0]}"
    assert client.get(expired).status_code == 404

    # The same task in New API's dialect (seed 003).
    newapi = client.get(f"/v1/video/generations/{task_id}").json()
    assert newapi["status"] == "completed" and newapi["format"] == "mp4"
    assert newapi["url"].startswith(server.url) and newapi["metadata"]["width"] == 320
    assert set(newapi["metadata"]) == {"duration", "fps", "width", "height", "seed"}

    # Deleting removes the artifacts too.
    assert client.delete(f"/v1/tasks/{task_id}").status_code == 200
    assert client.get(url).status_code == 404
    assert not (server.data_dir / "artifacts" / task_id).exists()


def test_bad_media_fails_the_task_and_server_keeps_serving(
    server: Server, client: httpx.Client, asset_root: Path
) -> None:
    (asset_root / "notmedia.mp4").write_text("this is not a video")
    (asset_root / "empty.png").write_bytes(b"")
    for name in ("notmedia.mp4", "empty.png"):
        kind = "video" if name.endswith("mp4") else "image"
        timeline = {
            "output": {"width": 64, "height": 64, "fps": 10},
            "tracks": [
                {"clips": [{"asset": {"type": kind, "src": name}, "start": 0, "length": 1}]}
            ],
        }
        task_id = client.post("/v1/tasks", json={"input": timeline}).json()["id"]
        task = wait_for(client, task_id, lambda t: t["status"] in ("completed", "failed"))
        assert task["status"] == "failed"
        assert task["error"]["code"] == "unsupported_media", task["error"]
        assert name in task["error"]["message"]
    assert client.get("/healthz").status_code == 200


def test_unreachable_assets_fail_with_asset_fetch_failed(tmp_path, asset_root) -> None:  # type: ignore[no-untyped-def]
    import http.server
    import threading
    import time as clock

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/slow.png":
                clock.sleep(5)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    server = Server(
        tmp_path / "data",
        asset_root,
        VIDTASK_ASSET_ALLOW_NETWORKS='["127.0.0.0/8"]',
        VIDTASK_ASSET_TIMEOUT_S="1",
    ).start()
    try:
        with httpx.Client(base_url=server.url) as client:
            for path, words in (("/missing.png", "404"), ("/slow.png", "timed out")):
                timeline = {
                    "output": {"width": 64, "height": 64, "fps": 10},
                    "tracks": [
                        {
                            "clips": [
                                {
                                    "asset": {"type": "image", "src": base + path},
                                    "start": 0,
                                    "length": 1,
                                }
                            ]
                        }
                    ],
                }
                task_id = client.post("/v1/tasks", json={"input": timeline}).json()["id"]
                task = wait_for(client, task_id, lambda t: t["status"] in ("completed", "failed"))
                assert task["status"] == "failed"
                assert task["error"]["code"] == "asset_fetch_failed"
                assert words in task["error"]["message"], task["error"]
            assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
        httpd.shutdown()
        httpd.server_close()
