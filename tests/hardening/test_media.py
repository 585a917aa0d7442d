"""Findings 14 and 6 in a timeline, through a real server and real workers: a truncated MP4 fails
the task as unsupported_media naming the file (it failed as render_failed, "ffmpeg did not write
frame 43"), and so does a decompression-bomb PNG, without hurting the worker."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import pytest

from tests.hardening.test_images import bomb
from tests.integration.conftest import Server, wait_for
from vidtask.core import errors
from vidtask.render import probe


def encode(dest: Path, seconds: float = 2.0, audio_seconds: float | None = None) -> Path:
    """A real H.264/AAC MP4, its index first (``+faststart``) as web videos have it."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=duration={audio_seconds or seconds}",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", str(dest)],
        check=True,
    )  # fmt: skip
    return dest


def cut(source: Path, dest: Path) -> Path:
    data = source.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


@pytest.mark.parametrize(
    ("seconds", "audio_seconds", "cut_stream"), [(2, 2, "video"), (4, 1, "video"), (1, 4, "audio")]
)
def test_probe_detects_the_cut_and_keeps_whole_files(
    tmp_path: Path, seconds: float, audio_seconds: float, cut_stream: str
) -> None:
    whole = encode(tmp_path / "whole.mp4", seconds, audio_seconds)
    started = time.perf_counter()
    assert probe.probe(whole).duration == pytest.approx(max(seconds, audio_seconds), abs=0.05)
    assert time.perf_counter() - started < 0.5
    with pytest.raises(errors.UnsupportedMedia) as caught:
        probe.probe(cut(whole, tmp_path / "cut.mp4"))
    assert str(caught.value).startswith(f"cut.mp4: the {cut_stream} is truncated or corrupt (")


def clip(src: str, kind: str = "video", length: float | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"asset": {"type": kind, "src": src}, "start": 0}
    return found if length is None else {**found, "length": length}


@pytest.mark.slow
def test_a_real_server_fails_them_as_unsupported_media(tmp_path: Path, asset_root: Path) -> None:
    whole = encode(asset_root / "whole.mp4")
    cut(whole, asset_root / "cut.mp4")
    (asset_root / "bomb.png").write_bytes(bomb())
    (asset_root / "bomb12k.png").write_bytes(bomb(12_000, 12_000))
    under = {"clips": [{"asset": {"type": "color", "color": "#102030"}, "start": 0, "length": 1}]}
    cases = {  # name -> (tracks, words the error must hold; None: it renders)
        # Alone it failed as render_failed ("ffmpeg did not write frame 8 for the stills") ...
        "cut_alone": (
            [{"clips": [clip("cut.mp4")]}],
            "tracks[0].clips[0].asset.src: cut.mp4: the video is truncated or corrupt",
        ),
        # ... and over another track it rendered, silently short.
        "cut": (
            [under, {"clips": [clip("cut.mp4")]}],
            "tracks[1].clips[0].asset.src: cut.mp4: the video is truncated",
        ),
        "cut_with_length": ([under, {"clips": [clip("cut.mp4", length=2)]}], "is truncated"),
        "bomb": (
            [under, {"clips": [clip("bomb.png", "image", 1)]}],
            "bomb.png: the image is 50000×50000 pixels",
        ),  # fmt: skip
        "bomb12k": (
            [under, {"clips": [clip("bomb12k.png", "image", 1)]}],
            "the image is 12000×12000 pixels",
        ),  # fmt: skip
        "whole": ([under, {"clips": [clip("whole.mp4")]}], None),
    }
    server = Server(tmp_path / "data", asset_root).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            ids = {}
            for name, (tracks, _) in cases.items():
                output = {"width": 64, "height": 64, "fps": 10}
                body = {"input": {"output": output, "tracks": tracks}}
                created = http.post("/v1/tasks", json=body)
                assert created.status_code == 201, created.text
                ids[name] = created.json()["id"]
            done = {
                name: wait_for(http, task_id, lambda t: t["status"] in ("completed", "failed"))
                for name, task_id in ids.items()
            }
            outcomes = {name: (task["status"], task["error"]) for name, task in done.items()}
            for name, (_, words) in cases.items():
                status, error = outcomes[name]
                if words is None:
                    assert status == "completed", outcomes
                else:
                    assert status == "failed" and error["code"] == "unsupported_media", outcomes
                    assert words in error["message"], outcomes
            assert http.get("/healthz").status_code == 200
    finally:
        server.stop()
