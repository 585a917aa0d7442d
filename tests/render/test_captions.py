"""SRT import: parsing real-world files, turning cues into caption clips, and rendering them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render import captions
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Clip, Limits

from .conftest import Server
from .helpers import clip, frames_at, render, timeline

__all__: list[str] = []

SRT = (
    "\ufeff1\r\n00:00:00,500 --> 00:00:01,500\r\n<i>Hello</i> there\r\n\r\n"
    "2\r\n00:00:02.000 --> 00:00:03,000\r\n{\\an8}第二句\r\nsecond line\r\n\r\n"
    "00:00:03,500 --> 00:00:03,400\r\nbackwards, dropped\r\n"
)


def test_parse_srt_tolerates_real_files() -> None:
    cues = captions.parse_srt(SRT, param="p")
    assert cues == [
        captions.Cue(0.5, 1.5, "Hello there"),
        captions.Cue(2.0, 3.0, "第二句\nsecond line"),
    ]


def test_a_file_without_cues_is_refused() -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        captions.parse_srt("just some text\n", param="tracks[1].clips[0].asset.srt")
    assert info.value.param == "tracks[1].clips[0].asset.srt"
    assert "no subtitle cues" in info.value.message


def test_expand_times_cues_from_the_clip_and_cuts_at_its_length() -> None:
    parent = Clip.model_validate(
        {"asset": {"type": "captions", "srt": SRT, "font_size": 30, "color": "yellow"},
         "start": 10, "length": 2.5, "position": "bottom", "fade_in": 0.2}
    )  # fmt: skip
    clips = captions.expand(parent, captions.parse_srt(SRT, param="p"))
    assert [(c.start, round(c.length or 0, 3)) for c in clips] == [(10.5, 1.0), (12.0, 0.5)]
    assert all(c.asset.type == "text" and c.position == "bottom" for c in clips)
    assert clips[0].asset.color == "#ffff00" and clips[0].asset.font_size == 30  # type: ignore[union-attr]


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


def test_captions_need_exactly_one_source(backend: TimelineBackend) -> None:
    for asset in ({"type": "captions"}, {"type": "captions", "src": "a.srt", "srt": SRT}):
        with pytest.raises(errors.InvalidRequest) as info:
            backend.validate(timeline([clip(asset, 0, None)]))
        assert info.value.param == "tracks[0].clips[0].asset"
    with pytest.raises(errors.InvalidRequest) as info:
        backend.validate(timeline([clip({"type": "captions", "srt": "nothing"}, 0, None)]))
    assert info.value.param == "tracks[0].clips[0].asset.srt"


def white_text(frame: Any) -> int:
    return int((np.asarray(frame).min(axis=2) > 200).sum())


@pytest.mark.slow
@pytest.mark.parametrize("source", ["inline", "file", "url"])
def test_captions_render_during_their_cues(
    backend: TimelineBackend, media: Any, server: Server, tmp_path: Path, source: str
) -> None:
    if source == "inline":
        asset: dict[str, Any] = {"type": "captions", "srt": SRT}
    elif source == "file":
        (media.root / "subs.srt").write_text(SRT, encoding="utf-8")
        asset = {"type": "captions", "src": "subs.srt"}
    else:
        server.routes["/subs.srt"] = (200, {}, SRT.encode(), 0.0)
        asset = {"type": "captions", "src": server.url("/subs.srt")}
    asset.update(font_size=24, stroke={"color": "#000000", "width": 2})
    background = clip({"type": "color", "color": "#203040"}, 0, 3.2)
    result = render(backend, timeline([background], [clip(asset, 0, None)], width=320,
                                      height=180), tmp_path)  # fmt: skip
    assert result.metadata["duration"] == pytest.approx(3.2)
    frames = frames_at(result.video, [0.2, 1.0, 1.8, 2.5], 10)
    assert white_text(frames[0.2]) == 0 and white_text(frames[1.8]) == 0
    assert white_text(frames[1.0]) > 50 and white_text(frames[2.5]) > 50
