"""End to end: a real timeline through TimelineBackend and ffmpeg, checked by decoding it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from vidtask.backends.base import RunContext
from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits

__all__: list[str] = []

pytestmark = pytest.mark.slow

FPS = 20


def clip(asset: dict[str, Any], start: float, length: float | None, **extra: Any) -> dict[str, Any]:
    out = {"asset": asset, "start": start, **extra}
    if length is not None:
        out["length"] = length
    return out


TIMELINE: dict[str, Any] = {
    "output": {"width": 320, "height": 180, "fps": FPS, "crf": 28, "previews": 3},
    "tracks": [
        {"clips": [
            clip({"type": "color", "color": "red"}, 0, 1),
            clip({"type": "color", "color": "#0000ff"}, 1, 2),
        ]},
        {"clips": [
            clip({"type": "image", "src": "image.png"}, 2, 1, fit="contain", scale=0.5,
                 position="top_left"),
        ]},
        {"clips": [
            clip({"type": "video", "src": "video.mp4", "trim": 0.5}, 1, None, scale=0.3,
                 position="bottom_right", fit="stretch"),
        ]},
        {"clips": [
            clip({"type": "text", "text": "你好世界", "font_size": 40}, 1, 1),
        ]},
        {"clips": [clip({"type": "audio", "src": "tone.m4a", "volume": 0.8}, 0, 3, fade_out=0.5)]},
    ],
}  # fmt: skip


def frames_at(video: Path, times: list[float]) -> dict[float, Any]:
    """RGB images of the frames shown at each time (exact frame index = time * fps)."""
    wanted = {round(t * FPS): t for t in times}
    found: dict[float, Any] = {}
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[wanted[index]] = frame.to_image()  # type: ignore[no-untyped-call]
    return found


def white_pixels(image: Any, box: tuple[int, int, int, int]) -> int:
    left, top, right, bottom = box
    pixels = (image.getpixel((x, y)) for x in range(left, right) for y in range(top, bottom))
    return sum(1 for pixel in pixels if min(pixel) > 200)


def close(pixel: Any, rgb: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, rgb, strict=True))


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def test_render_end_to_end(backend: TimelineBackend, recorder: Any, tmp_path: Path) -> None:
    data = backend.validate(TIMELINE)
    ctx = RunContext("task_1", 1, tmp_path, recorder, threading.Event())
    result = backend.run(data, ctx)

    assert result.video == tmp_path / "video.mp4" and result.format == "mp4"
    meta = result.metadata
    assert abs(meta["duration"] - 3.0) <= 1 / FPS
    assert (meta["width"], meta["height"], meta["fps"]) == (320, 180, FPS)
    assert meta["has_audio"] is True and meta["size_bytes"] == result.video.stat().st_size
    with av.open(str(result.video)) as container:
        assert container.streams.audio[0].sample_rate == 48000

    frames = frames_at(result.video, [0.5, 0.95, 1.0, 1.5, 2.5])
    assert close(frames[0.5].getpixel((10, 10)), (255, 0, 0))
    assert close(frames[0.95].getpixel((10, 10)), (255, 0, 0))  # the last red frame
    assert close(frames[1.0].getpixel((10, 10)), (0, 0, 255))  # the first blue frame
    assert close(frames[1.5].getpixel((10, 10)), (0, 0, 255))
    text_box = (100, 60, 220, 120)
    assert white_pixels(frames[1.5], text_box) > 100  # white CJK strokes over blue
    assert not close(frames[1.5].getpixel((300, 170)), (0, 0, 255))  # the video, bottom right
    assert close(frames[2.5].getpixel((10, 10)), (0, 200, 0))  # the image, top left
    assert white_pixels(frames[2.5], text_box) == 0  # the text has ended

    assert result.cover is not None and len(result.previews) == 3
    assert result.thumbnail is not None and result.spritesheet is not None
    for still in (result.cover, result.thumbnail, result.spritesheet, *result.previews):
        assert still.read_bytes()[:3] == b"\xff\xd8\xff"
    with Image.open(result.cover) as cover:
        assert cover.size == (320, 180)
        assert close(cover.getpixel((10, 10)), (255, 0, 0))  # 25% of 3 s: still red
    with Image.open(result.thumbnail) as thumbnail:
        assert thumbnail.size == (320, 180)
    with Image.open(result.spritesheet) as sheet:
        assert sheet.size == (5 * 160, 5 * 90)  # 25 tiles of 160x90
        assert close(sheet.getpixel((5, 5)), (255, 0, 0))  # first tile: red
        assert close(sheet.getpixel((4 * 160 + 5, 4 * 90 + 5)), (0, 200, 0))  # last: the image
    with Image.open(result.previews[1]) as middle:
        assert middle.size == (320, 180) and close(middle.getpixel((10, 10)), (0, 0, 255))
    assert recorder.previews == result.previews

    assert recorder.stages == ["fetching", "rendering", "saving"]
    assert recorder.percents == sorted(recorder.percents) and recorder.percents[-1] == 100
    stage_at = {name: recorder.events.index(("stage", name)) for name in recorder.stages}
    rendering = [
        p
        for kind, p in recorder.events[stage_at["rendering"] : stage_at["saving"]]
        if kind == "progress"
    ]
    assert rendering and all(10 <= p <= 90 for p in rendering)


def test_validate_checks_sources_and_normalizes(backend: TimelineBackend) -> None:
    bad = {
        "tracks": [
            {
                "clips": [
                    clip({"type": "color", "color": "red"}, 0, 1),
                    clip({"type": "image", "src": "../x.png"}, 1, 1),
                ]
            }
        ]
    }
    with pytest.raises(errors.InvalidRequest) as info:
        backend.validate(bad)
    assert info.value.param == "tracks[0].clips[1].asset.src"
    data = backend.validate(TIMELINE)
    assert backend.validate(data) == data
    assert "length" not in data["tracks"][2]["clips"][0]
    assert backend.input_schema()["title"] == "vidtask timeline"
