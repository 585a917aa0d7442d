"""Output formats, quality presets, aspect presets, fps and fixed durations, checked by probing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest

from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render import encoding
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits, Output, parse_timeline

from .helpers import clip, render, timeline

__all__: list[str] = []

COLOR = {"type": "color", "color": "#3060a0"}
TONE = {"type": "audio", "src": "tone.m4a"}


@pytest.mark.parametrize(
    ("aspect", "resolution", "size"),
    [
        ("16:9", None, (1280, 720)),
        ("9:16", "1080p", (1080, 1920)),
        ("1:1", "480p", (480, 480)),
        ("4:5", "1080p", (1080, 1350)),
        ("9:16", "360p", (360, 640)),
    ],
)
def test_aspect_presets(aspect: str, resolution: str | None, size: tuple[int, int]) -> None:
    out = Output.model_validate({"aspect": aspect, "resolution": resolution})
    assert (out.width, out.height) == size
    again = Output.model_validate(out.model_dump())  # normalized input validates again
    assert (again.width, again.height) == size


def test_aspect_conflicts_are_refused() -> None:
    for output in ({"aspect": "9:16", "width": 640, "height": 360}, {"resolution": "720p"}):
        with pytest.raises(errors.InvalidRequest) as info:
            parse_timeline(timeline([clip(COLOR, 0, 1)], **output), Limits())
        assert info.value.param == "output"


def test_draft_renders_at_a_third_of_the_size_with_the_fast_preset() -> None:
    draft = encoding.encoding_for("mp4", "draft", width=1080, height=1920, fps=30, crf=None)
    assert (draft.width, draft.height) == (360, 640) and draft.scale == pytest.approx(1 / 3)
    assert draft.video_args[draft.video_args.index("-preset") + 1] == "ultrafast"
    assert draft.fps == 15 and draft.video_args[draft.video_args.index("-r") + 1] == "15"
    slow = encoding.encoding_for("webm", "draft", width=1080, height=1920, fps=12, crf=None)
    assert slow.fps == 12
    high = encoding.encoding_for("mp4", "high", width=1080, height=1920, fps=30, crf=20)
    assert (high.width, high.height) == (1080, 1920) and "20" in high.video_args


def test_clips_after_a_fixed_duration_are_refused() -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        parse_timeline(timeline([clip(COLOR, 0, 1), clip(COLOR, 2, 1)], duration=2), Limits())
    assert info.value.param == "tracks[0].clips[1].start"


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def streams(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return {
            "format": container.format.name,
            "video": video.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "audio": container.streams.audio[0].codec_context.name
            if container.streams.audio
            else None,
            "frames": sum(1 for _ in container.decode(video=0)),
        }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ({"format": "webm"}, {"format": "matroska,webm", "video": "vp9", "audio": "opus"}),
        ({"format": "gif"}, {"format": "gif", "video": "gif", "audio": None}),
        (
            {"quality": "draft", "fps": 30},
            {"video": "h264", "size": (54, 30), "audio": "aac", "frames": 22},
        ),
        ({"quality": "high", "fps": 12}, {"video": "h264", "size": (160, 90), "frames": 18}),
        ({"duration": 1.0}, {"frames": 10}),
    ],
)
def test_formats_and_presets(
    backend: TimelineBackend, tmp_path: Path, output: dict[str, Any], expected: dict[str, Any]
) -> None:
    data = timeline([clip(COLOR, 0, 1.5)], [clip(TONE, 0, 1.5)], **output)
    result = render(backend, data, tmp_path)
    assert result.format == output.get("format", "mp4")
    assert result.video.name == f"video.{result.format}"
    found = streams(result.video)
    for key, value in expected.items():
        assert found[key] == value, key
    assert result.thumbnail is not None and result.thumbnail.exists()
