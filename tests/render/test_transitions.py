"""Transitions between clips on one track: validation, and xfade checked on real frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest

from vidtask.backends.timeline import TimelineBackend
from vidtask.core import errors
from vidtask.render.assets import AssetPolicy
from vidtask.render.schema import Limits, parse_timeline

from .helpers import clip, frames_at, mean_rgb, render, timeline

__all__: list[str] = []

RED = {"type": "color", "color": "#ff0000"}
BLUE = {"type": "color", "color": "#0000ff"}
GREEN = {"type": "color", "color": "#00ff00"}
FADE = {"type": "fade"}


def refused(data: dict[str, Any]) -> errors.InvalidRequest:
    with pytest.raises(errors.InvalidRequest) as info:
        parse_timeline(data, Limits())
    return info.value


def test_overlap_without_transition_is_refused() -> None:
    err = refused(timeline([clip(RED, 0, 2), clip(BLUE, 1.5, 1)]))
    assert err.param == "tracks[0].clips[1].start"
    assert "overlaps the previous clip on this track (tracks[0].clips[0]) by 0.5 s" in err.message


def test_transition_needs_touching_clips_and_matching_duration() -> None:
    gap = refused(timeline([clip(RED, 0, 1), clip(BLUE, 1.5, 1, transition={"type": "fade"})]))
    assert gap.param == "tracks[0].clips[1].transition"
    assert "starts 0.5 s after the previous one ends" in gap.message
    first = refused(timeline([clip(RED, 0, 1, transition={"type": "fade"})]))
    assert "no earlier clip" in first.message
    mismatch = refused(
        timeline([clip(RED, 0, 2), clip(BLUE, 1.5, 1, transition={"duration": 0.2})])
    )
    assert mismatch.param == "tracks[0].clips[1].transition.duration"
    unknown = refused(timeline([clip(RED, 0, 2), clip(BLUE, 1.5, 1, transition={"type": "x"})]))
    assert unknown.param == "tracks[0].clips[1].transition.type"
    too_long = refused(timeline([clip(RED, 0, 1), clip(BLUE, 1, 1, transition={"duration": 1.5})]))
    assert "longer than the clips allow" in too_long.message


def test_clips_on_other_tracks_may_overlap() -> None:
    parse_timeline(timeline([clip(RED, 0, 2)], [clip(BLUE, 1, 2)]), Limits())


@pytest.fixture()
def backend(policy: AssetPolicy, ffmpeg_exe: str) -> TimelineBackend:
    return TimelineBackend(policy=policy, limits=Limits(), ffmpeg_exe=ffmpeg_exe)


@pytest.mark.slow
def test_crossfade_over_the_overlap(backend: TimelineBackend, tmp_path: Path) -> None:
    data = timeline([clip(RED, 0, 2), clip(BLUE, 1.5, 1.5, transition={"type": "fade"})])
    result = render(backend, data, tmp_path)
    assert result.metadata["duration"] == pytest.approx(3.0)
    frames = frames_at(result.video, [1.0, 1.5, 1.7, 1.8, 2.0, 2.5], 10)
    assert mean_rgb(frames[1.0]) == pytest.approx((254, 0, 0), abs=6)
    assert mean_rgb(frames[1.5]) == pytest.approx((254, 0, 0), abs=6)  # the blend starts
    r, _, b = mean_rgb(frames[1.7])
    assert 60 < r < 200 and 60 < b < 200  # half way: both at once
    assert mean_rgb(frames[1.8])[0] < r  # red keeps fading
    assert mean_rgb(frames[2.0]) == pytest.approx((0, 0, 254), abs=6)
    assert mean_rgb(frames[2.5]) == pytest.approx((0, 0, 254), abs=6)


@pytest.mark.slow
def test_touching_clips_with_a_wipe_hold_the_first_clip(
    backend: TimelineBackend, media: Any, tmp_path: Path
) -> None:
    image = {"type": "image", "src": "image.png"}
    data = timeline(
        [
            clip(RED, 0, 1),
            clip(image, 1, 1, transition={"type": "wipeleft", "duration": 0.6}),
            clip(BLUE, 2, 1, transition={"type": "slideup", "duration": 0.4}, fit="contain",
                 scale=0.5),
        ]
    )  # fmt: skip
    result = render(backend, data, tmp_path)
    assert result.metadata["duration"] == pytest.approx(3.0)
    frames = frames_at(result.video, [0.5, 1.3, 1.8, 2.6], 10)
    assert mean_rgb(frames[0.5]) == pytest.approx((254, 0, 0), abs=6)
    # Half way through the wipe one side shows the image already, the other side still red.
    left, right = mean_rgb(frames[1.3], (0, 0, 50, 90)), mean_rgb(frames[1.3], (110, 0, 160, 90))
    assert left == pytest.approx((254, 0, 0), abs=8) and right[0] < 150
    assert mean_rgb(frames[1.8], (0, 0, 20, 20)) == pytest.approx((0, 200, 0), abs=20)
    # The half-size blue clip, padded onto the frame for the transition, ends centred.
    end = frames[2.6]
    assert mean_rgb(end, (60, 35, 100, 55)) == pytest.approx((0, 0, 254), abs=8)
    assert mean_rgb(end, (0, 0, 20, 20)) == pytest.approx((0, 0, 0), abs=8)


@pytest.mark.slow
def test_video_crossfades_into_a_picture(
    backend: TimelineBackend, media: Any, tmp_path: Path
) -> None:
    video = {"type": "video", "src": "video.mp4", "mute": True}
    data = timeline([clip(video, 0, 1.5), clip(BLUE, 1, 1, transition={"type": "fade"})])
    result = render(backend, data, tmp_path)
    assert result.metadata["duration"] == pytest.approx(2.0)
    frames = frames_at(result.video, [1.25, 1.75], 10)
    assert 60 < mean_rgb(frames[1.25])[2] < 230  # half way into the blue
    assert mean_rgb(frames[1.75]) == pytest.approx((0, 0, 254), abs=6)


@pytest.mark.slow
def test_joins_off_the_frame_grid_keep_every_frame(
    backend: TimelineBackend, tmp_path: Path
) -> None:
    # At 10 fps these 0.15 s crossfades are 1.5 frames: rounding each length and overlap by
    # itself lost a frame at the end.
    data = timeline(
        [clip(RED, 0, 0.7), clip(BLUE, 0.55, 0.7, transition=FADE),
         clip(GREEN, 1.1, 0.9, transition=FADE)]
    )  # fmt: skip
    result = render(backend, data, tmp_path)
    with av.open(str(result.video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 20
    assert mean_rgb(frames_at(result.video, [1.9], 10)[1.9]) == pytest.approx((0, 255, 0), abs=8)


@pytest.mark.slow
def test_a_picture_that_is_all_transition(backend: TimelineBackend, tmp_path: Path) -> None:
    # The blue clip is a crossfade in and a crossfade out, with no frame of its own between.
    data = timeline(
        [clip(RED, 0, 1), clip(BLUE, 0.5, 1, transition=FADE),
         clip(GREEN, 1.0, 1, transition=FADE)]
    )  # fmt: skip
    result = render(backend, data, tmp_path)
    assert result.metadata["duration"] == pytest.approx(2.0)
    frames = frames_at(result.video, [0.2, 1.9], 10)
    assert mean_rgb(frames[0.2]) == pytest.approx((254, 0, 0), abs=6)
    assert mean_rgb(frames[1.9]) == pytest.approx((0, 255, 0), abs=8)
